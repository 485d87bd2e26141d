/**
 * The field-shaped checks (secrets split over fields apart / reordered / in pieces, environment dumps) run by the
 * engine at every boundary: JSON and form bodies, query parameters, WebSocket messages, MCP arguments.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScanContext } from '../../src/egress/scanner.js';
import { createRequestScanner } from '../../src/dlp/proxy-scanner.js';
import { DlpScanner } from '../../src/dlp/scanner.js';
import { formFields, scanFields, scanJsonValue, scanUrl } from '../../src/dlp/structured.js';

const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true });
const AK = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');
const GH = ['ghp_', 'R8s2Kq9LmVx4', 'Tz7Wn3Bc6Yd1', 'Fh5Jp0GaQeUo', 'Xi2S'].join('');
const ids = (fs: readonly { detector: string }[]): string[] => [...new Set(fs.map((f) => f.detector))].sort();

async function body(contentType: string, text: string): Promise<string[]> {
  const rs = createRequestScanner({ scanner, worker: false });
  const ctx: ScanContext = { subject: 'Net(example.com:443)', method: 'POST', host: 'example.com', port: 443 };
  await rs.headers(ctx, ['Content-Type', contentType]);
  const out = [...(await rs.bodyChunk(ctx, Buffer.from(text), undefined)), ...(await rs.bodyEnd(ctx))];
  return ids(out);
}

async function frames(list: readonly string[]): Promise<string[]> {
  const rs = createRequestScanner({ scanner });
  const ctx: ScanContext = { subject: 'Net(example.com:443)', method: 'GET', host: 'example.com', port: 443 };
  const out: { detector: string }[] = [];
  for (const f of list) out.push(...(await rs.websocketFrame(ctx, 'up', Buffer.from(f))));
  return ids(out);
}

void describe('split secrets in every structured body', () => {
  void it('a JSON body with the pieces apart and reordered', async () => {
    assert.deepEqual(await body('application/json', JSON.stringify({ tail: AK.slice(10), note: 'see attached', head: AK.slice(0, 10) })), ['aws-access-key-id']);
    assert.deepEqual(await body('application/json', JSON.stringify({ p: [GH.slice(0, 10), GH.slice(10, 20), GH.slice(20, 30), GH.slice(30)] })), ['github-token']);
  });
  void it('a form body and query parameters with a field between the pieces', async () => {
    const form = new URLSearchParams({ a: AK.slice(0, 8), comment: 'hello there', b: AK.slice(8) }).toString();
    assert.deepEqual(await body('application/x-www-form-urlencoded', form), ['aws-access-key-id']);
    assert.deepEqual(ids(scanFields(scanner, formFields(form), (f) => f.name)), ['aws-access-key-id']);
    assert.ok(ids(scanUrl(scanner, `https://example.com/x?s=${AK.slice(12)}&page=2&f=${AK.slice(0, 12)}`)).includes('aws-access-key-id'));
  });
  void it('a JSON WebSocket message', async () => {
    assert.deepEqual(await frames([JSON.stringify({ type: 'msg', z: AK.slice(9), id: 7, a: AK.slice(0, 9) })]), ['aws-access-key-id']);
  });
  void it('ordinary bodies and messages of short ids: nothing', async () => {
    assert.deepEqual(await body('application/json', JSON.stringify({ sha: '3f786850e387550fdab836ed7e6dc881de23001b', base: '89e6c98d92887913cadf06b2adb97f26cde4849b', region: 'us-east-1', owner: 'octo-org', repo: 'hello-world', branch: 'feature/login' })), []);
    assert.deepEqual(await frames([JSON.stringify({ type: 'subscribe', channel: 'orders', symbol: 'BTC-USD', id: 'c0a8012e', seq: 1234, ts: '2026-11-23T10:00:00Z' })]), []);
    assert.deepEqual(await body('application/x-www-form-urlencoded', 'grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb&client_id=s6BhdRkqt3'), []);
  });
});

void describe('environment dumps in every structured body', () => {
  const dump = 'HOME=/home/dev\nPATH=/usr/bin:/bin\nDB_PASSWORD=summer-holiday-2024\nEDITOR=vim\n';
  void it('as a JSON field, a form field, a JSON object of NAME keys, a WebSocket message', async () => {
    assert.deepEqual(await body('application/json', JSON.stringify({ content: dump })), ['env-dump-secret']);
    assert.deepEqual(await body('application/x-www-form-urlencoded', new URLSearchParams({ log: dump }).toString()), ['env-dump-secret']);
    assert.deepEqual(await body('application/json', JSON.stringify({ env: { HOME: '/root', LANG: 'C.UTF-8', STRIPE_WEBHOOK_SECRET: 'plainlongvalue12' } })), ['env-dump-secret']);
    assert.deepEqual(await frames([dump]), ['env-dump-secret']);
    assert.deepEqual(await frames([JSON.stringify({ HOME: '/root', SHELL: '/bin/bash', GITHUB_TOKEN: 'notrandombutlongtoken' })]), ['env-dump-secret']);
    assert.deepEqual(ids(scanJsonValue(scanner, { files: [{ text: dump }] }, 'args')), ['env-dump-secret']);
  });
  void it('references, placeholders, stock values, ids and files pass', async () => {
    const benign = 'NODE_ENV=production\nDB_PASSWORD=${DB_PASSWORD}\nAPI_KEY=<your key>\nPOSTGRES_PASSWORD=postgres\nTOKEN_FILE=/run/secrets/token\nAWS_ACCESS_KEY_ID_LENGTH=20\n';
    assert.deepEqual(await body('application/json', JSON.stringify({ content: benign })), []);
    assert.deepEqual(await frames([benign]), []);
    assert.deepEqual(await body('application/json', JSON.stringify({ env: { NODE_ENV: 'production', API_URL: 'https://api.example.com', SESSION_TTL: '3600', JWT_SECRET: '${{ secrets.JWT_SECRET }}' } })), []);
    // One assignment inside a longer text is not a dump (the assignment detectors judge it); one with a short value neither.
    assert.deepEqual(await frames(['To run locally, set the variable in your shell first:\nDB_PASSWORD=plainwordsonly\nthen start the server with npm start.']), []);
    assert.deepEqual(await frames(['DB_PASSWORD=hunter22']), []);
  });
  void it('a text that is one credential assignment and nothing else is a finding, random or not', async () => {
    assert.deepEqual(await frames(['SECRET_KEY_BASE=thisisnotveryrandombutlongenough']), ['env-dump-secret']);
    assert.deepEqual(await body('application/json', JSON.stringify({ command: 'export DB_PASSWORD=summer-holiday-2024' })), ['env-dump-secret']);
    for (const v of ['export GITHUB_TOKEN=$(gh auth token)', 'API_KEY=<your key here>', 'NODE_OPTIONS=--max-old-space-size=4096', 'DEBUG_PASSWORD_HASHING=false', 'TOKEN_FILE=/run/secrets/api-token', 'POSTGRES_PASSWORD=postgres']) {
      assert.deepEqual(await body('application/json', JSON.stringify({ command: v })), [], v);
    }
  });
});

void describe('one-time values in form bodies are not secrets', () => {
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXkQx7Rk2Lm9Vt3Wz8';
  const form = 'application/x-www-form-urlencoded';
  void it('a PKCE token request (code_verifier, state, nonce) passes', async () => {
    assert.deepEqual(await body(form, `grant_type=authorization_code&code=4%2F0AY0e-g7Xk2&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080&client_id=123-abc.apps.example.com&code_verifier=${verifier}`), []);
    assert.deepEqual(await body(form, `response_type=code&state=${verifier}&nonce=Rk2Lm9Vt3Wz8Qx7dBjftJeZ4CVPmB92K27uhbUJU1p1r`), []);
  });
  void it('a client secret in the same request is still refused, and so is a provider token under a one-time name', async () => {
    assert.ok((await body(form, `grant_type=client_credentials&client_id=abc&client_secret=Zq8Xv2Lm7Kp4Tw9Rn3Bd6Hy1Jf5Gc0Ae&code_verifier=${verifier}`)).includes('generic-secret'));
    assert.ok((await body(form, `grant_type=authorization_code&code_verifier=${GH}`)).some((d) => d.startsWith('github')));
  });
});
