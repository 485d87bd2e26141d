/**
 * Child processes of the egress benchmark, selected by argv[2]:
 * `upstream` serves /big (BIG_MB of zeros in 1 MiB writes) and /small;
 * `proxy` runs startProxy allowing 127.0.0.1 (no audit sink attached).
 * Each prints its port on stdout.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startProxy } from '../../src/egress/proxy-server.js';
import { rulesPolicy } from '../../src/policy/test-helpers.js';

const role = process.argv[2];
if (role === 'upstream') {
  const chunk = Buffer.alloc(1024 * 1024);
  const mb = Number(process.env.BIG_MB ?? '100');
  const server = createServer((req, res) => {
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
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
} else if (role === 'proxy') {
  const { policy } = rulesPolicy({ allow: ['Net(127.0.0.1)'] });
  const p = await startProxy({ policy, http: { host: '127.0.0.1', port: 0 }, log: () => undefined });
  process.stdout.write(`${p.httpAddress?.port ?? 0}\n`);
} else {
  process.stderr.write('usage: children.ts upstream|proxy\n');
  process.exit(2);
}
