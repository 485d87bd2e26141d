import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScanContext } from '../egress/scanner.js';
import { createRequestScanner } from './proxy-scanner.js';
import { DlpScanner } from './scanner.js';

const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true });

async function frames(list: readonly string[]): Promise<string[]> {
  const rs = createRequestScanner({ scanner });
  const ctx: ScanContext = { subject: 'Net(example.com:443)', method: 'GET', host: 'example.com', port: 443 };
  const out: string[] = [];
  for (const f of list) for (const x of await rs.websocketFrame(ctx, 'up', Buffer.from(f))) out.push(`${x.detector}@${x.where}`);
  return out;
}

void test('a token cut between two messages with a short label between the halves is found', async () => {
  assert.ok((await frames(['part1: ghp_ABCDEFGHIJKLMN', 'part2: OPQRSTUVWXYZabcdef12'])).some((f) => f.startsWith('github-token@ws:joined')));
  assert.ok((await frames(['{"a":"xoxb-1234567890-', '{"b":"0987654321-AbCdEfGhIjKlMnOpQrStUvWx"}'])).some((f) => f.startsWith('slack-token')));
  // Each half alone is nothing (the first frame is not refused before the second comes).
  assert.deepEqual(await frames(['part1: ghp_ABCDEFGHIJKLMN']), []);
});

void test('fragments of one message are read back to back (three-part sk- key)', async () => {
  assert.ok((await frames(['sk-test-', '4eC39HqLyj', 'WDarjtT1zdp7dc'])).some((f) => f.startsWith('sk-prefixed-key')));
});

void test('ordinary consecutive messages: nothing joined', async () => {
  assert.deepEqual(await frames([
    '{"type":"message","user":"alice","text":"Has anyone reviewed the pull request yet?"}',
    '{"type":"message","user":"bob","text":"Yes, looks good: merging build-2024-11-23 now"}',
    '{"op":"ping","id":"c0a8f3e2"}', '{"op":"pong","id":"7d1e9b44"}',
    'cursor: eyJwYWdlIjoy', 'next: fQ', 'sk-fading-circle', 'spinner: sk-cube-grid',
  ]), []);
});

void test('JWT with a short or bogus signature: a finding when header and claims decode', () => {
  const jwt = (sig: string): string => `eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJpbnRlcm5hbCJ9.${sig}`;
  for (const sig of ['fakesig', '', 'x']) {
    assert.ok(scanner.scanText(`{"auth":"Bearer ${jwt(sig)}"}`, 't').some((f) => f.detector === 'jwt' || f.detector === 'bearer-token'), sig);
    assert.ok(scanner.scanText(`token=${jwt(sig)} next`, 't').some((f) => f.detector === 'jwt'), sig);
  }
  // Header without alg, or a payload that is not a JSON object: no token.
  assert.deepEqual(scanner.scanText('eyJ0eXAiOiJKV1QifQ.eyJpc3MiOiJpbnRlcm5hbCJ9.fakesig', 't'), []);
  assert.deepEqual(scanner.scanText('eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.bm90IGpzb24gYXQgYWxs.fakesig', 't').filter((f) => f.detector === 'jwt'), []);
});
