/**
 * The broker server alone (in this process, on a Unix socket), against an
 * HTTPS upstream with a test CA: TLS is verified (without the CA: refused),
 * clear text goes to loopback only, metadata addresses are refused, and every
 * decision is published.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DecisionEvent } from '../../src/audit/record.js';
import { compileHost } from '../../src/broker/hosts.js';
import { startBroker, type RunningBroker } from '../../src/broker/server.js';
import { makePki, type TestPki } from '../egress/tls-fixture.js';

const PH = 'PH-0000000000000000000000';
const REAL = 'RE-1111111111111111111111';

function ask(socket: string, target: string, headers: Record<string, string>): Promise<{ status: number; body: string; echo?: string }> {
  return new Promise((ok, bad) => {
    const r = request({ socketPath: socket, method: 'GET', path: target, headers }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: b, ...(res.headers['x-echo'] === undefined ? {} : { echo: String(res.headers['x-echo']) }) }));
    });
    r.on('error', bad);
    r.end();
  });
}

void describe('broker server', () => {
  let pki: TestPki;
  let upstream: Server;
  let port = 0;
  const got: string[] = [];
  const events: DecisionEvent[] = [];
  const brokers: RunningBroker[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-bs-'));
  const start = async (name: string, withCa: boolean, hosts: string[], resolve?: (h: string) => Promise<{ address: string; family: 4 | 6 }[]>): Promise<string> => {
    const socketPath = path.join(dir, `${name}.sock`);
    brokers.push(await startBroker({
      socketPath, publish: (e) => events.push(e), ...(withCa ? { upstreamCa: pki.ca } : {}), ...(resolve === undefined ? {} : { resolve }),
      credentials: [{ name: 'K', header: 'x-key', hosts: hosts.map((h) => compileHost('K', h)), placeholder: PH, real: REAL }],
    }));
    return socketPath;
  };
  before(async () => {
    pki = makePki();
    upstream = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
      got.push(String(req.headers['x-key']));
      res.setHeader('x-echo', String(req.headers['x-key']));
      res.end(`echo ${String(req.headers['x-key'])}`);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    port = (upstream.address() as AddressInfo).port;
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  void it('sends the real value over verified TLS and hands back the placeholder where the upstream echoes it', async () => {
    const s = await start('ok', true, [`127.0.0.1:${port}`]);
    const r = await ask(s, `https://127.0.0.1:${port}/x`, { 'x-key': PH });
    assert.deepEqual(r, { status: 200, body: `echo ${PH}`, echo: PH });
    assert.deepEqual(got, [REAL]);
    assert.equal(events.at(-1)?.decision, 'allow');
  });
  void it('without the test CA the upstream certificate is refused (system roots only)', async () => {
    const s = await start('noca', false, [`127.0.0.1:${port}`]);
    const r = await ask(s, `https://127.0.0.1:${port}/x`, { 'x-key': PH });
    assert.equal(r.status, 502);
    assert.equal(got.length, 1);
  });
  void it('refuses hosts outside the credential, clear text off loopback, and metadata addresses', async () => {
    const s = await start('rules', true, ['api.test', 'api.test:80', 'meta.test']);
    const resolve = (h: string): Promise<{ address: string; family: 4 | 6 }[]> => Promise.resolve([{ address: h === 'meta.test' ? '169.254.169.254' : '10.0.0.1', family: 4 }]);
    const s2 = await start('rules2', true, ['api.test', 'api.test:80', 'meta.test'], resolve);
    assert.equal((await ask(s, `https://127.0.0.1:${port}/x`, { 'x-key': PH })).status, 403);
    const clear = await ask(s2, 'http://api.test/x', { 'x-key': PH });
    assert.equal(clear.status, 502);
    assert.match(clear.body, /clear text only to loopback/);
    const meta = await ask(s2, 'https://meta.test/x', { 'x-key': PH });
    assert.match(meta.body, /metadata/);
    assert.equal((await ask(s2, 'https://api.test/x', { accept: '*/*' })).status, 403, 'no placeholder: refused');
    assert.equal(got.length, 1, 'nothing more reached the upstream');
    assert.ok(events.filter((e) => e.decision === 'deny').length >= 4);
  });
});
