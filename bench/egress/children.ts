/**
 * Child processes of the egress benchmark, selected by argv[2]:
 * `upstream` serves /big (BIG_MB of zeros in 1 MiB writes) and /small;
 * `proxy` runs startProxy allowing 127.0.0.1 (no audit sink attached);
 * `tls-upstream` is the same upstream over HTTPS (key and cert from BENCH_DIR);
 * `tls-proxy` is the proxy with TLS inspection (its session CA written to
 * BENCH_DIR/session-ca.pem, upstream verified with BENCH_DIR/ca.pem).
 * Each prints its port on stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import path from 'node:path';
import { SessionCa } from '../../src/egress/tls-ca.js';
import type { AddressInfo } from 'node:net';
import { startProxy } from '../../src/egress/proxy-server.js';
import { rulesPolicy } from '../../src/policy/test-helpers.js';

const role = process.argv[2];
const dir = process.env.BENCH_DIR ?? '';
if (role === 'upstream' || role === 'tls-upstream') {
  const chunk = Buffer.alloc(1024 * 1024);
  const mb = Number(process.env.BIG_MB ?? '100');
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === '/big') {
      res.writeHead(200, { 'content-length': String(mb * chunk.length) });
      let left = mb;
      const pump = (): void => {
        while (left > 0) {
          left -= 1;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    res.writeHead(200, { 'content-length': '2' });
    res.end('ok');
  };
  const server = role === 'upstream' ? createServer(handler) : createTlsServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, handler);
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
} else if (role === 'proxy') {
  const { policy } = rulesPolicy({ allow: ['Net(127.0.0.1)'] });
  const p = await startProxy({ policy, http: { host: '127.0.0.1', port: 0 }, log: () => undefined });
  process.stdout.write(`${p.httpAddress?.port ?? 0}\n`);
} else if (role === 'tls-proxy') {
  const { policy } = rulesPolicy({ allow: ['Net(127.0.0.1)'] });
  const ca = await SessionCa.create('bench');
  writeFileSync(path.join(dir, 'session-ca.pem'), ca.certPem);
  const p = await startProxy({ policy, http: { host: '127.0.0.1', port: 0 }, log: () => undefined, tls: { ca, roots: readFileSync(path.join(dir, 'ca.pem'), 'utf8') } });
  process.stdout.write(`${p.httpAddress?.port ?? 0}\n`);
} else {
  process.stderr.write('usage: children.ts upstream|proxy|tls-upstream|tls-proxy\n');
  process.exit(2);
}
