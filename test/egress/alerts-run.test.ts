/** `cordon run` with `audit.alerts.webhook`: a blocked request inside the sandbox reaches the webhook (from the supervisor, not through the proxy). */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cordonAsync } from '../cli-helpers.js';

const hasBwrap = ['/usr/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));
const hasCurl = existsSync('/usr/bin/curl');
const skip = !hasBwrap ? 'bubblewrap is not installed (apt-get install -y bubblewrap)' : !hasCurl ? 'curl is not installed (apt-get install -y curl)' : false;

void describe('cordon run: alerts webhook', { skip }, () => {
  void it('POSTs the blocked-egress decision to the webhook; allowed requests are not alerts', async () => {
    const bodies: { session: string; events: { subject: string; decision: string; boundary: string }[] }[] = [];
    const hook = createServer((req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(b) as (typeof bodies)[number]);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookPort = (hook.address() as AddressInfo).port;
    const allowed = createServer((_q, r) => r.end('fine\n'));
    await new Promise<void>((r) => allowed.listen(0, '127.0.0.1', r));
    const okPort = (allowed.address() as AddressInfo).port;
    try {
      const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-alerts-run-'));
      const ws = path.join(root, 'ws');
      mkdirSync(ws);
      writeFileSync(path.join(ws, 'cordon.yaml'), `version: 1\npermissions:\n  allow: ["Net(127.0.0.1:${okPort})"]\naudit:\n  alerts: { webhook: "http://127.0.0.1:${hookPort}/hook" }\n`);
      const script = `curl -s http://127.0.0.1:${okPort}/ok; curl -s -o /dev/null -w 'blocked=%{http_code}\\n' http://127.0.0.1:${hookPort}/exfil-attempt`;
      const r = await cordonAsync(['run', '--', 'sh', '-c', script], ws, { XDG_STATE_HOME: path.join(root, 'state') }).done;
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^fine$/m);
      assert.match(r.stdout, /^blocked=403$/m, 'the webhook host is not reachable from inside the sandbox');
      const events = bodies.flatMap((b) => b.events);
      assert.ok(events.some((e) => e.boundary === 'egress' && e.decision === 'deny' && e.subject === `Http(GET 127.0.0.1:${hookPort}/exfil-attempt)`), JSON.stringify(bodies));
      assert.ok(!events.some((e) => e.decision === 'allow'));
      assert.match(bodies[0]?.session ?? '', /^s_/);
    } finally {
      hook.closeAllConnections();
      await new Promise<void>((r) => hook.close(() => r()));
      await new Promise<void>((r) => allowed.close(() => r()));
    }
  });
});
