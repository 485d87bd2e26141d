/**
 * Paired A/B of the proxy: this checkout's children.ts against another
 * checkout's (BASE_CHILDREN), both running at once and measured in turns
 * (direct, new, base, direct, ...), so load from elsewhere on the shared
 * machine hits both alike. Prints medians and the proxies' CPU per transfer
 * (or per request), the figure load moves least.
 *
 *   BASE_CHILDREN=/other/checkout/bench/egress/children.ts \
 *     node --import tsx bench/egress/paired.ts http|https|latency [turns or requests]
 *
 * The other checkout needs its node_modules (a symlink to this one's will do)
 * and its own native addon (`node scripts/build-native.mjs` there; without it
 * its proxy relays in JavaScript). Its bundle is written to its `.bench-cache/`.
 * Rows and clients are those of run.ts (a counting client with one fixed
 * 1 MiB buffer; Node's http Agent for keep-alive latency).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { makePki } from '../../test/egress/tls-fixture.js';
import { countGet, cpuMs, median, type OnRead } from './client.js';

const mode = process.argv[2] ?? '';
if (!['http', 'https', 'latency'].includes(mode) || process.env.BASE_CHILDREN === undefined) {
  process.stderr.write('usage: BASE_CHILDREN=/other/checkout/bench/egress/children.ts node --import tsx bench/egress/paired.ts http|https|latency [n]\n');
  process.exit(2);
}
const N = Number(process.argv[3] ?? (mode === 'latency' ? '3000' : '7'));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = mkdtempSync(path.join(tmpdir(), 'cordon-paired-'));
const OUT = path.join(ROOT, 'node_modules', '.cache', 'cordon-bench-egress');
mkdirSync(OUT, { recursive: true });
// The base bundle lives in the other checkout (`.bench-cache/`), so its proxy finds that checkout's package root and
// native addon (src/egress/zero-copy.ts looks above the bundle for package.json): under this checkout's node_modules it
// would load this checkout's addon, which an older zero-copy.ts refuses (another interface) and relays in JavaScript.
// Packages still resolve through the other checkout's node_modules (a symlink to this one's will do).
const BASE_OUT = path.join(path.dirname(path.dirname(path.dirname(path.resolve(process.env.BASE_CHILDREN)))), '.bench-cache');
mkdirSync(BASE_OUT, { recursive: true });
const bundles = { new: path.join(OUT, `paired-new-${process.pid}.mjs`), base: path.join(BASE_OUT, `paired-base-${process.pid}.mjs`) };
const children: ChildProcess[] = [];
process.once('exit', () => {
  for (const c of children) c.kill();
  rmSync(DIR, { recursive: true, force: true });
  for (const b of Object.values(bundles)) rmSync(b, { force: true });
  rmSync(BASE_OUT, { recursive: true, force: true });
});
for (const [entry, outfile] of [[fileURLToPath(new URL('./children.ts', import.meta.url)), bundles.new], [process.env.BASE_CHILDREN, bundles.base]] as const) {
  await build({
    entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile, logLevel: 'warning',
    banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
  });
}
const pki = makePki();
writeFileSync(path.join(DIR, 'ca.pem'), pki.ca);
writeFileSync(path.join(DIR, 'key.pem'), pki.key);
writeFileSync(path.join(DIR, 'cert.pem'), pki.cert);

interface Child { readonly port: number; readonly pid: number }
function child(bundle: string, role: string): Promise<Child> {
  const proc = spawn(process.execPath, [bundle, role], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BIG_MB: '100', BENCH_DIR: DIR } });
  children.push(proc);
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`bench child ${role} exited (${code ?? 'signal'})`)));
    proc.stdout?.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), pid: proc.pid ?? 0 }));
  });
}


const tls = mode === 'https';
const up = await child(bundles.new, tls ? 'tls-upstream' : 'upstream');
const proxies: { name: 'new' | 'base'; child: Child; ca: string }[] = [];
for (const name of ['new', 'base'] as const) {
  // BASE_ROLE: the role the base bundle starts (e.g. `tls-floor`: this tree's proxy beside the floor of a Node-TLS relay).
  const c = await child(bundles[name], name === 'base' && process.env.BASE_ROLE !== undefined ? process.env.BASE_ROLE : tls ? 'tls-proxy' : 'proxy');
  proxies.push({ name, child: c, ca: tls ? readFileSync(path.join(DIR, 'session-ca.pem'), 'utf8') : '' });
}
const host = `127.0.0.1:${up.port}`;

if (mode === 'latency') {
  const agents = [0, 1, 2].map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const ports = [up.port, ...proxies.map((p) => p.child.port)];
  const get = (k: number): Promise<void> => new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ports[k], path: k === 0 ? '/small' : `http://${host}/small`, agent: agents[k] }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
  const times: number[][] = [[], [], []];
  for (let w = 0; w < 200; w += 1) for (const k of [0, 1, 2]) await get(k);
  const before = proxies.map((p) => cpuMs(p.child.pid));
  for (let done = 0; done < N; done += 250) {
    for (const k of [0, 1, 2]) {
      for (let i = 0; i < 250; i += 1) {
        const t = process.hrtime.bigint();
        await get(k);
        times[k]?.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }
  }
  const direct = median(times[0] ?? []);
  const cells = proxies.map((p, i) => `${p.name} +${(median(times[i + 1] ?? []) - direct).toFixed(3)} ms (cpu ${(((cpuMs(p.child.pid) - (before[i] ?? 0)) * 1000) / N).toFixed(0)} us/request)`);
  process.stdout.write(`keep-alive p50, ${N} requests each: direct ${direct.toFixed(3)} ms | ${cells.join(' | ')}\n`);
} else {
  const viaProxy = (p: (typeof proxies)[number]) => (o: OnRead): Promise<Socket> => {
    if (!tls) return Promise.resolve(connect({ host: '127.0.0.1', port: p.child.port, onread: o }));
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: p.child.port });
      s.write(`CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      s.once('data', () => {
        // Over a tunnel socket `onread` delivers nothing: 'data' events into the same callback.
        const t = tlsConnect({ socket: s, host: '127.0.0.1', ca: p.ca });
        t.on('data', (d: Buffer) => o.callback(d.copy(o.buffer), o.buffer));
        t.once('secureConnect', () => resolve(t));
        t.once('error', reject);
      });
      s.once('error', reject);
    });
  };
  const direct = (o: OnRead): Promise<Socket> => (tls
    ? new Promise((resolve, reject) => {
      // tls.connect honours `onread` like net.connect (its typings omit it).
      const t = tlsConnect({ host: '127.0.0.1', port: up.port, ca: pki.ca, onread: o } as ConnectionOptions);
      t.once('secureConnect', () => resolve(t));
      t.once('error', reject);
    })
    : Promise.resolve(connect({ host: '127.0.0.1', port: up.port, onread: o })));
  const rate = async (open: (o: OnRead) => Promise<Socket>, target: string): Promise<number> => {
    const t = performance.now();
    const n = await countGet(open, target, host);
    return n / 1e6 / ((performance.now() - t) / 1000);
  };
  const got = { direct: [] as number[], new: [] as number[], base: [] as number[] };
  const cpu = { new: [] as number[], base: [] as number[] };
  for (let i = 0; i < N; i += 1) {
    got.direct.push(await rate(direct, '/big'));
    for (const p of proxies) {
      const c0 = cpuMs(p.child.pid);
      got[p.name].push(await rate(viaProxy(p), tls ? '/big' : `http://${host}/big`));
      cpu[p.name].push(cpuMs(p.child.pid) - c0);
    }
  }
  const cells = proxies.map((p) => `${p.name} ${median(got[p.name]).toFixed(0)} MB/s (cpu ${median(cpu[p.name]).toFixed(0)} ms)`);
  process.stdout.write(`100 MB ${mode} download, median of ${N} turns: direct ${median(got.direct).toFixed(0)} MB/s | ${cells.join(' | ')}\n`);
}
process.exit(0);
