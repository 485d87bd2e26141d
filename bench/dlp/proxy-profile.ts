/**
 * Where the proxy's CPU goes on bench/egress's upload row, per thread:
 * `node --import tsx bench/dlp/proxy-profile.ts [--uploads 10] [--mb 50] [--top 25]`
 *
 * Bundles bench/egress/children.ts and the DLP scan worker as
 * bench/egress/run.ts does (the code as it ships), starts the upstream and
 * the proxy (`--cpu-prof`: the worker thread writes its own profile), sends
 * one upload to warm up and `--uploads` more, then stops the proxy so the
 * profiles are written, and prints for each thread its busy time and the
 * functions with the most self time, per upload (the warm-up and the
 * start-up included, spread over the uploads). Also prints MB/s and the
 * proxy's CPU per upload (all threads, from /proc), as the bench does.
 * `wasm-function[0] <hash>` lines are the WebAssembly loops, one per
 * module (the prefilter's filter, run starts, the known-secret rolling
 * pass). Wall-clock samples count time a thread was preempted: on a loaded
 * machine, compare the shares, not the absolute figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { sendChunks, uploadChunks } from './proxy-upload-body.js';

const { values: opt } = parseArgs({ options: { uploads: { type: 'string', default: '10' }, mb: { type: 'string', default: '50' }, top: { type: 'string', default: '25' } } });
const UPLOADS = Number(opt.uploads);
const MB = Number(opt.mb);
const TOP = Number(opt.top);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE_DIR = path.join(ROOT, 'node_modules', '.cache', 'cordon-proxy-profile', String(process.pid));
const PROFILES = mkdtempSync(path.join(tmpdir(), 'cordon-proxy-profile-'));
const children: ChildProcess[] = [];
process.once('exit', () => {
  for (const c of children) c.kill();
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  rmSync(PROFILES, { recursive: true, force: true });
});

mkdirSync(BUNDLE_DIR, { recursive: true });
const banner = { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" };
const CHILDREN = path.join(BUNDLE_DIR, 'children.mjs');
await build({ entryPoints: [path.join(ROOT, 'bench', 'egress', 'children.ts')], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: CHILDREN, logLevel: 'warning', banner });
await build({ entryPoints: [path.join(ROOT, 'src', 'dlp', 'scan-worker.ts')], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: path.join(BUNDLE_DIR, 'dlp-scan-worker.mjs'), logLevel: 'warning', banner });
// The proxy writes its profiles when it exits: SIGTERM ends it through process.exit.
const EXIT_ON_TERM = path.join(BUNDLE_DIR, 'exit-on-term.mjs');
writeFileSync(EXIT_ON_TERM, "process.on('SIGTERM', () => process.exit(0));\n");

/** A child of children.ts; resolves with the port it prints. */
function child(role: string, execArgv: readonly string[] = []): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [...execArgv, CHILDREN, role], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${role} exited (${code ?? 'signal'})`)));
    proc.stdout?.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), proc }));
  });
}

const upstream = await child('upstream');
const proxy = await child('proxy', ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`, '--import', EXIT_ON_TERM]);
const CHUNKS = uploadChunks();

function upload(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxy.port, method: 'POST', path: `http://127.0.0.1:${upstream.port}/upload`, agent: false, headers: { 'content-type': 'text/plain', 'content-length': String(MB * 1048576) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode ?? 0}`))));
    });
    req.on('error', reject);
    sendChunks(req, CHUNKS, MB);
  });
}

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
const pid = proxy.proc.pid ?? 0;
await upload();
const rates: number[] = [];
const cpu: number[] = [];
for (let i = 0; i < UPLOADS; i++) {
  const c0 = cpuMs(pid);
  const t = performance.now();
  await upload();
  rates.push((MB * 1048576) / 1e6 / ((performance.now() - t) / 1000));
  cpu.push(cpuMs(pid) - c0);
}
process.stdout.write(`${UPLOADS} uploads of ${MB} MiB: MB/s ${rates.map((r) => r.toFixed(0)).join(' ')} (median ${median(rates).toFixed(0)}); proxy CPU ms ${cpu.join(' ')} (median ${median(cpu)})\n`);
const exited = new Promise((resolve) => proxy.proc.once('exit', resolve));
proxy.proc.kill('SIGTERM');
await exited;

interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

for (const f of readdirSync(PROFILES).filter((n) => n.endsWith('.cpuprofile')).sort()) {
  const p = JSON.parse(readFileSync(path.join(PROFILES, f), 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let busy = 0;
  p.samples.forEach((id, i) => {
    const n = byId.get(id);
    const d = p.timeDeltas[i] ?? 0;
    if (n === undefined || n.callFrame.functionName === '(idle)') return;
    busy += d;
    const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop() ?? ''}:${n.callFrame.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + d);
  });
  const per = (us: number): string => (us / 1000 / UPLOADS).toFixed(1);
  // CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: thread 0 is the proxy's, the next the worker's.
  process.stdout.write(`\n${f.split('.')[4] === '0' ? 'proxy thread' : 'worker thread'} (${f}): busy ${per(busy)} ms per upload\n`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) process.stdout.write(`${per(v).padStart(8)}  ${k}\n`);
}
// The upstream child keeps the loop alive: the exit handler stops it.
process.exit(0);
