/**
 * `cordon run` with TLS inspection: inside the sandbox, plain `curl https://`
 * to an allowed loopback upstream works because the session CA is trusted
 * through the bundle the supervisor binds in (and only there); Http rules
 * decide single requests inside the tunnel.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cordonAsync } from '../cli-helpers.js';
import { makePki, type TestPki } from './tls-fixture.js';

const hasBwrap = ['/usr/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));
const hasCurl = existsSync('/usr/bin/curl');
const skip = !hasBwrap ? 'bubblewrap is not installed (apt-get install -y bubblewrap)' : !hasCurl ? 'curl is not installed (apt-get install -y curl)' : false;

void describe('cordon run with TLS inspection', { skip }, () => {
  let pki: TestPki;
  let server: Server;
  let port = 0;
  const seen: string[] = [];
  let root = '';
  before(async () => {
    pki = makePki();
    server = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
      seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
      res.end(`tls ok ${req.url ?? ''}\n`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    root = mkdtempSync(path.join(os.tmpdir(), 'cordon-tls-run-'));
    writeFileSync(path.join(root, 'test-ca.pem'), pki.ca);
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  void it('curl https:// works inside with the session CA from the bundle; an Http deny rule refuses one path; the CA is trusted nowhere else', async () => {
    const ws = path.join(root, 'ws');
    mkdirSync(ws);
    writeFileSync(path.join(ws, 'cordon.yaml'), `version: 1\npermissions:\n  deny: ["Http(GET 127.0.0.1:${port}/admin)"]\n  allow: ["Net(127.0.0.1:${port})"]\n`);
    const state = path.join(root, 'state');
    const url = `https://127.0.0.1:${port}`;
    const script = [
      `curl -sS ${url}/hello`,
      `curl -s -o /dev/null -w 'admin=%{http_code}\\n' ${url}/admin`,
      `curl -s -o /dev/null -w 'system-only=%{http_code}\\n' --cacert /etc/ssl/certs/ca-certificates.crt ${url}/hello2; echo system-only-exit=$?`,
      'grep -c "BEGIN CERTIFICATE" "$SSL_CERT_FILE" > /dev/null && echo bundle=yes',
      'echo "bundle-path=$SSL_CERT_FILE"',
      '(echo x >> "$SSL_CERT_FILE") 2>/dev/null; echo write=$?',
      'test "$NODE_EXTRA_CA_CERTS" != "" && test "$REQUESTS_CA_BUNDLE" = "$SSL_CERT_FILE" && test "$GIT_SSL_CAINFO" = "$SSL_CERT_FILE" && echo vars=yes',
    ].join('; ');
    const r = await cordonAsync(['run', '--', 'sh', '-c', script], ws, { XDG_STATE_HOME: state, CORDON_EGRESS_EXTRA_CA: path.join(root, 'test-ca.pem') }).done;
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^tls ok \/hello$/m);
    assert.match(r.stdout, /^admin=403$/m);
    assert.match(r.stdout, /^system-only-exit=60$/m, 'the session CA is not in the system store: curl refuses it (exit 60)');
    assert.match(r.stdout, /^bundle=yes$/m);
    assert.match(r.stdout, /^write=[1-9]/m, 'the bundle is read-only inside');
    assert.match(r.stdout, /^vars=yes$/m);
    assert.deepEqual(seen.filter((s) => s.includes('/admin') || s.includes('/hello2')), [], 'the upstream never saw the refused requests');
    assert.ok(seen.includes('GET /hello'));
    const log = readdirSync(path.join(state, 'cordon')).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(path.join(state, 'cordon', f), 'utf8')).join('');
    assert.match(log, /"subject":"Net\(127\.0\.0\.1:\d+\)","decision":"allow","rule":"tls inspection"/);
    assert.match(log, /"subject":"Http\(GET 127\.0\.0\.1:\d+\/hello\)","decision":"allow"/);
    assert.match(log, /"subject":"Http\(GET 127\.0\.0\.1:\d+\/admin\)","decision":"deny"/);
    const bundle = /^bundle-path=(.+)$/m.exec(r.stdout)?.[1] ?? '';
    assert.match(bundle, /cordon-trust-[^/]+\/ca-bundle\.pem$/);
    assert.equal(existsSync(path.dirname(bundle)), false, 'the trust directory is removed after the run');
  });
});
