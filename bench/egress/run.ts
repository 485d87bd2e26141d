/**
 * Egress proxy benchmark on loopback: every figure of issue 4 side by side
 * in one run, with the ratio against its target.
 *
 *   100 MB HTTP download       direct | cordon | srt's proxy
 *   100 MB HTTPS, inspected    direct | cordon | srt (tlsTerminate) | mitmproxy (mitmdump)
 *   50 MB upload, DLP on       direct | cordon (the DLP scanner `cordon run` uses)
 *   small keep-alive request   direct | cordon (p50, added latency)
 *   proxy RSS, 500 connections cordon
 *
 * The proxies run in child processes bundled by esbuild from the sources
 * (the code as it ships, not through tsx). Variants are measured in turns
 * (direct, cordon, srt, mitmproxy, direct, ...) and each figure is the
 * median of the turns, so load from elsewhere on the machine hits all of
 * them alike.
 *
 * srt (@anthropic-ai/sandbox-runtime) is found through SRT_BIN (its `srt`
 * binary) or `srt` on PATH; its HTTP proxy server is imported from that
 * package. mitmproxy is `mitmdump` (MITMDUMP_BIN or PATH; Debian package
 * `mitmproxy`), run with stream_large_bodies=1m so it streams like the
 * others. Either absent: its cells say so and the run goes on (neither is a
 * dependency of cordon or of CI).
 *
 * Usage: node --import tsx bench/egress/run.ts [--mb 100] [--upload-mb 50] [--runs 5] [--requests 2000] [--only http,https,upload,latency]
 * (BENCH_CHILDREN=/other/checkout/bench/egress/children.ts measures another checkout's proxy.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { makePki } from '../../test/egress/tls-fixture.js';
import { sendChunks, uploadChunks } from '../dlp/proxy-upload-body.js';
import { countGet, cpuMs, median, type OnRead, plainTo } from './client.js';

const { values: opt } = parseArgs({ options: { mb: { type: 'string', default: '100' }, 'upload-mb': { type: 'string', default: '50' }, runs: { type: 'string', default: '5' }, requests: { type: 'string', default: '2000' }, only: { type: 'string', default: 'http,https,upload,latency' } } });
/** Rows to run (`--only http,latency`: the others are left out of the table); RSS is always measured. */
const ONLY = new Set(opt.only.split(','));
for (const r of ONLY) if (!['http', 'https', 'upload', 'latency'].includes(r)) throw new Error(`--only: unknown row ${r} (http, https, upload, latency)`);
const MB = Number(opt.mb);
const UPLOAD_MB = Number(opt['upload-mb']);
const RUNS = Number(opt.runs);
const REQUESTS = Number(opt.requests);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = mkdtempSync(path.join(tmpdir(), 'cordon-bench-'));
const children: ChildProcess[] = [];
process.once('exit', () => {
  for (const c of children) c.kill();
  rmSync(DIR, { recursive: true, force: true });
});

// The children as shipped code: one esbuild bundle (under node_modules so its own require() finds packages).
// BENCH_CHILDREN: the children.ts of another checkout (an earlier commit), to measure it the same way.
const CHILDREN = process.env.BENCH_CHILDREN ?? fileURLToPath(new URL('./children.ts', import.meta.url));
const BUNDLE = path.join(ROOT, 'node_modules', '.cache', 'cordon-bench-egress', `run-${process.pid}`, 'children.mjs');
mkdirSync(path.dirname(BUNDLE), { recursive: true });
process.once('exit', () => rmSync(path.dirname(BUNDLE), { recursive: true, force: true }));
await build({
  entryPoints: [CHILDREN], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: BUNDLE, logLevel: 'warning',
  banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
});
// The DLP's body-scan worker (src/dlp/body-worker.ts) beside the children, where the bundled proxy looks for it.
const SCAN_WORKER = path.join(path.dirname(CHILDREN), '..', '..', 'src', 'dlp', 'scan-worker.ts');
if (existsSync(SCAN_WORKER)) {
  await build({
    entryPoints: [SCAN_WORKER], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: path.join(path.dirname(BUNDLE), 'dlp-scan-worker.mjs'), logLevel: 'warning',
    banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
  });
}

function which(name: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(':')) {
    const f = path.join(d, name);
    if (d !== '' && existsSync(f)) return f;
  }
  return undefined;
}

/** The sandbox-runtime package directory behind SRT_BIN (or `srt` on PATH), or why there is none. */
function findSrt(): { pkg: string } | { skip: string } {
  const bin = process.env.SRT_BIN ?? which('srt');
  if (bin === undefined) return { skip: 'srt not found (set SRT_BIN to the srt binary of @anthropic-ai/sandbox-runtime)' };
  let real: string;
  try {
    real = realpathSync(bin);
  } catch {
    return { skip: `SRT_BIN=${bin} does not exist` };
  }
  const pkg = path.dirname(path.dirname(real));
  if (!existsSync(path.join(pkg, 'dist', 'sandbox', 'http-proxy.js'))) return { skip: `${bin} is not the srt of @anthropic-ai/sandbox-runtime (no dist/sandbox/http-proxy.js in ${pkg})` };
  return { pkg };
}

function child(role: string, env: Record<string, string> = {}): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [BUNDLE, role], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env, BIG_MB: String(MB), BENCH_DIR: DIR } });
  children.push(proc);
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`bench child ${role} exited (${code ?? 'signal'})`)));
    proc.stdout?.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), proc }));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(ok: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

const canConnect = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = connect({ host: '127.0.0.1', port });
  s.once('connect', () => (s.destroy(), resolve(true)));
  s.once('error', () => resolve(false));
});

/** mitmdump listening on a free port with its CA in DIR/mitm, or why not. */
async function startMitmproxy(): Promise<{ port: number; ca: string; pid: number | undefined } | { skip: string }> {
  const bin = process.env.MITMDUMP_BIN ?? which('mitmdump');
  if (bin === undefined) return { skip: 'mitmdump not found (Debian package mitmproxy; or set MITMDUMP_BIN)' };
  const port = await freePort();
  const confdir = path.join(DIR, 'mitm');
  const proc = spawn(bin, ['-q', '--listen-host', '127.0.0.1', '--listen-port', String(port), '--set', `confdir=${confdir}`, '--set', `ssl_verify_upstream_trusted_ca=${path.join(DIR, 'ca.pem')}`, '--set', 'stream_large_bodies=1m'], { stdio: 'ignore' });
  children.push(proc);
  const caFile = path.join(confdir, 'mitmproxy-ca-cert.pem');
  if (!(await waitFor(async () => existsSync(caFile) && (await canConnect(port)), 30_000))) return { skip: 'mitmdump did not start within 30 s' };
  return { port, ca: readFileSync(caFile, 'utf8'), pid: proc.pid };
}

interface Via { readonly port: number; readonly path: (p: string) => string }

function drain(res: IncomingMessage, resolve: (n: number) => void, reject: (e: Error) => void): void {
  let n = 0;
  res.on('data', (c: Buffer) => (n += c.length));
  res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`status ${res.statusCode ?? 0}`))));
  res.on('error', reject);
}

function get(via: Via, p: string, agent: Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: via.port, path: via.path(p), agent }, (res) => drain(res, resolve, reject));
    req.on('error', reject);
    req.end();
  });
}


/** TLS to the upstream, straight or inside a CONNECT tunnel through `proxyPort`, verified with `ca` (no SNI: the host is an IP). */
const tlsTo = (upPort: number, proxyPort: number | undefined, ca: string) => (onread: OnRead): Promise<Socket> => new Promise((resolve, reject) => {
  // tls.connect honours `onread` like net.connect (its typings omit it).
  const secure = (o: ConnectionOptions, tunnel: boolean): void => {
    // Over a tunnel socket `onread` delivers nothing: 'data' events into the same callback there.
    const t = tlsConnect({ ...o, ca, ...(tunnel ? {} : ({ onread } as object)) });
    if (tunnel) t.on('data', (d: Buffer) => onread.callback(d.copy(onread.buffer), onread.buffer));
    t.once('secureConnect', () => resolve(t));
    t.once('error', reject);
  };
  if (proxyPort === undefined) return secure({ host: '127.0.0.1', port: upPort }, false);
  const s = connect({ host: '127.0.0.1', port: proxyPort });
  s.write(`CONNECT 127.0.0.1:${upPort} HTTP/1.1\r\nHost: 127.0.0.1:${upPort}\r\n\r\n`);
  s.once('data', (d: Buffer) => {
    if (!/^HTTP\/1\.[01] 200/.test(d.toString('latin1'))) return reject(new Error(`CONNECT refused: ${d.toString('latin1').split('\r\n')[0] ?? ''}`));
    secure({ socket: s, host: '127.0.0.1' }, true);
  });
  s.once('error', reject);
});

/** Upload body: prose-like text (words from a fixed list, a fixed PRNG), so DLP scans realistic bytes and finds nothing. */
const CHUNKS = uploadChunks();

function upload(via: Via, mb: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: via.port, method: 'POST', path: via.path('/upload'), agent: false, headers: { 'content-type': 'text/plain', 'content-length': String(mb * 1024 * 1024) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 && Number(body) === mb * 1024 * 1024 ? resolve(mb * 1024 * 1024) : reject(new Error(`status ${res.statusCode ?? 0}: ${body.slice(0, 300)}`))));
    });
    req.on('error', reject);
    sendChunks(req, CHUNKS, mb);
  });
}

/** MB/s of one transfer, or the error text. */
async function rate(run: () => Promise<number>): Promise<number | string> {
  const t = process.hrtime.bigint();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no end within 120 s')), 120_000)));
  try {
    const n = await Promise.race([run(), limit]);
    return n / 1e6 / (Number(process.hrtime.bigint() - t) / 1e9);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
  }
}


type Variant = { readonly name: string; readonly run: () => Promise<number>; readonly pid?: number | undefined } | { readonly name: string; readonly skip: string };


/**
 * Runs every variant once per turn, RUNS turns; per variant the median MB/s
 * (or its skip/failure reason) and the median CPU time its proxy process
 * used per transfer (a figure the load from elsewhere on the machine barely moves).
 */
async function turns(variants: readonly Variant[], runs = RUNS): Promise<Map<string, number | string> & { cpu: Map<string, number> }> {
  const got = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const out = Object.assign(new Map<string, number | string>(), { cpu: new Map<string, number>() });
  for (let i = 0; i < runs; i += 1) {
    for (const v of variants) {
      if ('skip' in v) {
        out.set(v.name, v.skip);
        continue;
      }
      if (typeof out.get(v.name) === 'string') continue;
      const before = v.pid === undefined ? 0 : cpuMs(v.pid);
      const r = await rate(v.run);
      if (v.pid !== undefined) cpu.set(v.name, [...(cpu.get(v.name) ?? []), cpuMs(v.pid) - before]);
      if (typeof r === 'string') out.set(v.name, `failed: ${r}`);
      else got.set(v.name, [...(got.get(v.name) ?? []), r]);
    }
  }
  for (const [name, xs] of got) if (!out.has(name)) out.set(name, median(xs));
  for (const [name, xs] of cpu) out.cpu.set(name, median(xs));
  return out;
}

/** p50 latencies (ms) of small keep-alive requests, direct and through the proxy in alternating blocks. */
async function latencies(direct: Via, proxied: Via, n: number): Promise<{ direct: number; proxy: number }> {
  const agents = [new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 })] as const;
  const times: [number[], number[]] = [[], []];
  const vias = [direct, proxied] as const;
  for (let w = 0; w < 200; w += 1) for (const k of [0, 1] as const) await get(vias[k], '/small', agents[k]);
  const block = 250;
  for (let done = 0; done < n; done += block) {
    for (const k of [0, 1] as const) {
      for (let i = 0; i < block; i += 1) {
        const t = process.hrtime.bigint();
        await get(vias[k], '/small', agents[k]);
        times[k].push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }
  }
  for (const a of agents) a.destroy();
  return { direct: median(times[0]), proxy: median(times[1]) };
}

function rssMb(pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid ?? 0}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

const pki = makePki();
writeFileSync(path.join(DIR, 'ca.pem'), pki.ca);
writeFileSync(path.join(DIR, 'key.pem'), pki.key);
writeFileSync(path.join(DIR, 'cert.pem'), pki.cert);
const srt = findSrt();
const srtEnv = 'pkg' in srt ? { SRT_PKG: srt.pkg } : {};
const [up, tup, px, pxDlp, pxKnown, tpx, spx, stpx, mitm] = await Promise.all([
  child('upstream'), child('tls-upstream'), child('proxy'), child('proxy-dlp'), child('proxy-known'), child('tls-proxy'),
  'pkg' in srt ? child('srt-proxy', srtEnv).catch((e: unknown) => ({ skip: `srt proxy failed to start: ${String(e)}` })) : Promise.resolve(srt),
  'pkg' in srt ? child('srt-tls-proxy', srtEnv).catch((e: unknown) => ({ skip: `srt proxy failed to start: ${String(e)}` })) : Promise.resolve(srt),
  startMitmproxy(),
]);
const direct: Via = { port: up.port, path: (p) => p };
const through = (port: number): Via => ({ port, path: (p) => `http://127.0.0.1:${up.port}${p}` });
const sessionCa = readFileSync(path.join(DIR, 'session-ca.pem'), 'utf8');

const big = (port: number, via: number | undefined): Promise<number> => countGet(plainTo(via ?? port), via === undefined ? '/big' : `http://127.0.0.1:${port}/big`, `127.0.0.1:${port}`);
const bigTls = (via: number | undefined, ca: string): Promise<number> => countGet(tlsTo(tup.port, via, ca), '/big', `127.0.0.1:${tup.port}`);
type Turns = Awaited<ReturnType<typeof turns>>;
const none = (): Turns => Object.assign(new Map<string, number | string>(), { cpu: new Map<string, number>() });
const download = !ONLY.has('http') ? none() : await turns([
  { name: 'direct', run: () => big(up.port, undefined) },
  { name: 'cordon', run: () => big(up.port, px.port), pid: px.proc.pid },
  'skip' in spx ? { name: 'srt', skip: spx.skip } : { name: 'srt', run: () => big(up.port, spx.port), pid: spx.proc.pid },
]);
const https = !ONLY.has('https') ? none() : await turns([
  { name: 'direct', run: () => bigTls(undefined, pki.ca) },
  { name: 'cordon', run: () => bigTls(tpx.port, sessionCa), pid: tpx.proc.pid },
  'skip' in stpx ? { name: 'srt', skip: stpx.skip } : { name: 'srt', run: () => bigTls(stpx.port, readFileSync(path.join(DIR, 'srt-ca.pem'), 'utf8')), pid: stpx.proc.pid },
  'skip' in mitm ? { name: 'mitmproxy', skip: mitm.skip } : { name: 'mitmproxy', run: () => bigTls(mitm.port, mitm.ca), pid: mitm.pid },
]);
const uploads = !ONLY.has('upload') ? none() : await turns([
  { name: 'direct', run: () => upload(direct, UPLOAD_MB) },
  { name: 'cordon', run: () => upload(through(pxDlp.port), UPLOAD_MB), pid: pxDlp.proc.pid },
  { name: 'cordon+known', run: () => upload(through(pxKnown.port), UPLOAD_MB), pid: pxKnown.proc.pid },
]);
const lat = ONLY.has('latency') ? await latencies(direct, through(px.port), REQUESTS) : undefined;
const idle = rssMb(px.proc.pid);
const many = new Agent({ keepAlive: true, maxSockets: 500 });
await Promise.all(Array.from({ length: 500 }, () => get(through(px.port), '/small', many)));
const held = rssMb(px.proc.pid);
many.destroy();

const cell = (v: number | string | undefined, digits = 0): string => (typeof v === 'number' ? v.toFixed(digits) : v === undefined ? '' : 'n/a');
const ratio = (a: number | string | undefined, b: number | string | undefined): number | undefined => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : undefined);
const check = (r: number | undefined, target: number, text: (r: number) => string): string => (r === undefined ? `${text(NaN)} (n/a)` : `${text(r)} ${r >= target ? 'ok' : 'MISSED'}`);
const row = (name: string, cells: readonly string[], note: string): string => `${name.padEnd(34)}${cells.map((c) => c.padStart(10)).join('')}   ${note}`;

const cpuCells = (m: { cpu: Map<string, number> }, names: readonly string[]): string[] => names.map((n) => (m.cpu.has(n) ? `${(m.cpu.get(n) ?? 0).toFixed(0)}` : ''));
const out: string[] = [];
out.push(`egress bench: ${MB} MB downloads, ${UPLOAD_MB} MB upload, median of ${RUNS} turns (MB/s); ${REQUESTS} keep-alive requests per side; proxies as esbuild bundles`);
out.push(row('', ['direct', 'cordon', 'srt', 'mitmproxy'], 'against the targets'));
const dl = download;
if (ONLY.has('http')) {
  out.push(row(`${MB} MB HTTP download`, [cell(dl.get('direct')), cell(dl.get('cordon')), cell(dl.get('srt')), ''],
    `${check(ratio(dl.get('cordon'), dl.get('direct')), 0.5, (r) => `${(r * 100).toFixed(0)}% of direct (>= 50%)`)}; ${check(ratio(dl.get('cordon'), dl.get('srt')), 4, (r) => `${r.toFixed(1)}x srt (>= 4x)`)}`));
  out.push(row('  proxy CPU ms per HTTP download', ['', ...cpuCells(dl, ['cordon', 'srt']), ''], `srt ${(ratio(dl.cpu.get('srt'), dl.cpu.get('cordon')) ?? NaN).toFixed(1)}x cordon's CPU`));
}
if (ONLY.has('https')) {
  out.push(row(`${MB} MB HTTPS, inspected`, [cell(https.get('direct')), cell(https.get('cordon')), cell(https.get('srt')), cell(https.get('mitmproxy'))],
    `${check(ratio(https.get('cordon'), https.get('srt')), 3, (r) => `${r.toFixed(1)}x srt tlsTerminate (>= 3x)`)}; ${check(ratio(https.get('cordon'), https.get('mitmproxy')), 5, (r) => `${r.toFixed(1)}x mitmproxy (>= 5x)`)}; ${((ratio(https.get('cordon'), https.get('direct')) ?? 0) * 100).toFixed(0)}% of direct`));
  out.push(row('  proxy CPU ms per HTTPS download', ['', ...cpuCells(https, ['cordon', 'srt', 'mitmproxy'])], `srt ${(ratio(https.cpu.get('srt'), https.cpu.get('cordon')) ?? NaN).toFixed(1)}x, mitmproxy ${(ratio(https.cpu.get('mitmproxy'), https.cpu.get('cordon')) ?? NaN).toFixed(1)}x cordon's CPU`));
}
if (ONLY.has('upload')) {
  out.push(row(`${UPLOAD_MB} MB upload, DLP scanning on`, [cell(uploads.get('direct')), cell(uploads.get('cordon')), '', ''],
    check(typeof uploads.get('cordon') === 'number' ? (uploads.get('cordon') as number) / 200 : undefined, 1, () => `${cell(uploads.get('cordon'))} MB/s (>= 200)`)));
  out.push(row('  proxy CPU ms per upload', ['', ...cpuCells(uploads, ['cordon']), '', ''], ''));
  out.push(row('  same, 3 known secrets loaded', ['', cell(uploads.get('cordon+known')), '', ''], `as \`cordon run\` with credential-like variables or broker credentials (no target of its own)`));
  out.push(row('  proxy CPU ms per upload', ['', ...cpuCells(uploads, ['cordon+known']), '', ''], ''));
}
if (lat !== undefined) {
  const added = lat.proxy - lat.direct;
  out.push(row('small keep-alive request p50 (ms)', [lat.direct.toFixed(3), lat.proxy.toFixed(3), '', ''], `+${added.toFixed(3)} ms (<= 0.3) ${added <= 0.3 ? 'ok' : 'MISSED'}`));
}
out.push(row('proxy RSS idle / 500 conns (MB)', ['', `${idle.toFixed(0)}/${held.toFixed(0)}`, '', ''], `<= 150 MB ${held <= 150 ? 'ok' : 'MISSED'}`));
for (const [what, m] of [['srt', dl], ['srt (tlsTerminate)', https], ['mitmproxy', https], ['cordon upload', uploads]] as const) {
  const v = m.get(what.startsWith('srt') ? 'srt' : what === 'cordon upload' ? 'cordon' : what);
  if (typeof v === 'string') out.push(`  ${what}: ${v}`);
}
for (const [name, m] of [['download', dl], ['https', https]] as const) {
  for (const [k, v] of m) if (k === 'cordon' && typeof v === 'string') out.push(`  cordon ${name}: ${v}`);
}
process.stdout.write(`${[...new Set(out)].join('\n')}\n`);
process.exit(0);
