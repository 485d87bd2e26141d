/**
 * Child processes of the egress benchmark, selected by argv[2]. run.ts
 * bundles this file with esbuild (no tsx, no keepNames: the code runs as it
 * ships) and starts one process per role; each prints its port on stdout.
 *
 * `upstream` serves /big (BIG_MB of zeros in 1 MiB writes), /small, and
 *   POST /upload (reads the body, answers its length);
 * `tls-upstream` is the same over HTTPS (key and cert from BENCH_DIR);
 * `proxy` is startProxy allowing 127.0.0.1 (no audit sink attached) with
 *   the DLP request scanner `cordon run` uses (URL, headers, bodies): every
 *   row measures the proxy as it ships; `proxy-dlp` is the same (older name);
 *   `proxy-nodlp` is without the scanner (to see what the scanning costs);
 *   `proxy-known` has the scanner with the fingerprints of 3 known secrets (as `cordon run` with credentials);
 * `tls-proxy` the proxy with TLS inspection and the same scanner (its session
 *   CA written to BENCH_DIR/session-ca.pem, upstream verified with
 *   BENCH_DIR/ca.pem);
 * `tls-floor` the floor of an inspecting proxy on Node's TLS (tls-floor.ts: no
 *   HTTP, policy or DLP; CA and roots as for `tls-proxy`);
 * `srt-proxy` and `srt-tls-proxy` are the HTTP proxy of srt
 *   (@anthropic-ai/sandbox-runtime, package directory in SRT_PKG) allowing
 *   every host, the second with `tlsTerminate` (its CA written to
 *   BENCH_DIR/srt-ca.pem).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { SessionCa } from '../../src/egress/tls-ca.js';
import { startProxy } from '../../src/egress/proxy-server.js';
import { createRequestScanner } from '../../src/dlp/proxy-scanner.js';
import { KnownSecretSet } from '../../src/dlp/fingerprint.js';
import { rulesPolicy } from '../../src/policy/test-helpers.js';
import { startTlsFloor } from './tls-floor.js';

const role = process.argv[2];
const dir = process.env.BENCH_DIR ?? '';
const printPort = (port: number | undefined): void => void process.stdout.write(`${port ?? 0}\n`);

function upstream(tls: boolean): void {
  const chunk = Buffer.alloc(1024 * 1024);
  const mb = Number(process.env.BIG_MB ?? '100');
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === '/upload') {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(String(n)));
      return;
    }
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
  const server = tls ? createTlsServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, handler) : createServer(handler);
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => printPort((server.address() as AddressInfo).port));
}

/** srt's own HTTP proxy server, imported from its installed package (not a dependency of cordon). */
async function srtProxy(terminate: boolean): Promise<void> {
  const pkg = process.env.SRT_PKG ?? '';
  const mod = (file: string): string => pathToFileURL(path.join(pkg, 'dist', 'sandbox', file)).href;
  const { createHttpProxyServer } = (await import(mod('http-proxy.js'))) as { createHttpProxyServer: (o: Record<string, unknown>) => Server };
  const options: Record<string, unknown> = { filter: () => true };
  if (terminate) {
    const { createMitmCA } = (await import(mod('mitm-ca.js'))) as { createMitmCA: (o: Record<string, unknown>) => { certPem: string } };
    const ca = createMitmCA({});
    writeFileSync(path.join(dir, 'srt-ca.pem'), ca.certPem);
    options.mitmCA = ca;
    options.tlsTerminateUpstreamCA = readFileSync(path.join(dir, 'ca.pem'), 'utf8');
  }
  const server = createHttpProxyServer(options);
  server.listen(0, '127.0.0.1', () => printPort((server.address() as AddressInfo).port));
}

const allow = (): ReturnType<typeof rulesPolicy>['policy'] => rulesPolicy({ allow: ['Net(127.0.0.1)'] }).policy;
switch (role ?? '') {
  case 'upstream':
  case 'tls-upstream':
    upstream(role === 'tls-upstream');
    break;
  case 'proxy':
  case 'proxy-dlp':
  case 'proxy-nodlp': {
    const p = await startProxy({ policy: allow(), http: { host: '127.0.0.1', port: 0 }, log: () => undefined, ...(role === 'proxy-nodlp' ? {} : { scanner: createRequestScanner() }) });
    printPort(p.httpAddress?.port);
    break;
  }
  case 'proxy-known': {
    // The DLP scanner with the fingerprints of 3 known secrets, as `cordon run` gives it the user's credential-like
    // variables and the broker's credentials (the values are generated here; the proxy holds fingerprints only).
    const set = new KnownSecretSet();
    for (let i = 0; i < 3; i += 1) set.add(`KNOWN_${i}`, randomBytes(30).toString('base64url'));
    const p = await startProxy({ policy: allow(), http: { host: '127.0.0.1', port: 0 }, log: () => undefined, scanner: createRequestScanner({ known: set.matcher() }) });
    printPort(p.httpAddress?.port);
    break;
  }
  case 'tls-proxy': {
    const ca = await SessionCa.create('bench');
    writeFileSync(path.join(dir, 'session-ca.pem'), ca.certPem);
    const p = await startProxy({ policy: allow(), http: { host: '127.0.0.1', port: 0 }, log: () => undefined, scanner: createRequestScanner(), tls: { ca, roots: readFileSync(path.join(dir, 'ca.pem'), 'utf8') } });
    printPort(p.httpAddress?.port);
    break;
  }
  case 'tls-floor':
    printPort(await startTlsFloor(dir, readFileSync(path.join(dir, 'ca.pem'), 'utf8')));
    break;
  case 'srt-proxy':
  case 'srt-tls-proxy':
    await srtProxy(role === 'srt-tls-proxy');
    break;
  default:
    process.stderr.write('usage: children.ts upstream|tls-upstream|proxy|proxy-dlp|proxy-nodlp|proxy-known|tls-proxy|tls-floor|srt-proxy|srt-tls-proxy\n');
    process.exit(2);
}
