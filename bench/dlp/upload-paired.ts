/**
 * bench/egress's upload row (50 MB, DLP on) through this checkout's proxy and another checkout's, side by side:
 *
 *   BASE_ROOT=/other/checkout node --import tsx bench/dlp/upload-paired.ts [--turns 9] [--mb 50] [--settle 300]
 *
 * Each checkout's children.ts and DLP scan worker are bundled as bench/egress/run.ts bundles them (the base's into
 * its own `.bench-cache/`, so its proxy finds its own worker), one upstream and both proxies run at once, and the
 * uploads go in turns (direct, new, base, direct, ...), so load from elsewhere on the shared machine hits both alike.
 * Each upload starts `--settle` ms (300) after the one before, so what a proxy does after its upload (collecting the
 * garbage of the held body) does not run during the other's turn.
 * Prints each turn, then the medians of MB/s and of the proxy's CPU per upload (all its threads, from /proc): CPU is
 * the steadier figure on a loaded machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { cpuMs, median } from '../egress/client.js';
import { sendChunks, uploadChunks } from './proxy-upload-body.js';

const { values: opt } = parseArgs({ options: { turns: { type: 'string', default: '9' }, mb: { type: 'string', default: '50' }, settle: { type: 'string', default: '300' } } });
const TURNS = Number(opt.turns);
const SETTLE = Number(opt.settle);
const MB = Number(opt.mb);
const BASE_ROOT = process.env.BASE_ROOT;
if (BASE_ROOT === undefined || !existsSync(path.join(BASE_ROOT, 'bench', 'egress', 'children.ts'))) {
  process.stderr.write('usage: BASE_ROOT=/other/checkout node --import tsx bench/dlp/upload-paired.ts [--turns 9] [--mb 50]\n');
  process.exit(2);
}
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = mkdtempSync(path.join(tmpdir(), 'cordon-upload-paired-'));
const outDir = { new: path.join(ROOT, 'node_modules', '.cache', 'cordon-upload-paired', String(process.pid)), base: path.join(BASE_ROOT, '.bench-cache', `upload-paired-${process.pid}`) };
const children: ChildProcess[] = [];
process.once('exit', () => {
  for (const c of children) c.kill();
  for (const d of [DIR, ...Object.values(outDir)]) rmSync(d, { recursive: true, force: true });
});
const banner = { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" };
for (const [name, root] of [['new', ROOT], ['base', BASE_ROOT]] as const) {
  mkdirSync(outDir[name], { recursive: true });
  await build({ entryPoints: [path.join(root, 'bench', 'egress', 'children.ts')], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: path.join(outDir[name], 'children.mjs'), logLevel: 'warning', banner });
  await build({ entryPoints: [path.join(root, 'src', 'dlp', 'scan-worker.ts')], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: path.join(outDir[name], 'dlp-scan-worker.mjs'), logLevel: 'warning', banner });
}

interface Child { readonly port: number; readonly pid: number }
function child(bundle: string, role: string): Promise<Child> {
  const proc = spawn(process.execPath, [bundle, role], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_DIR: DIR } });
  children.push(proc);
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`bench child ${role} exited (${code ?? 'signal'})`)));
    proc.stdout?.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), pid: proc.pid ?? 0 }));
  });
}

const up = await child(path.join(outDir.new, 'children.mjs'), 'upstream');
const proxies = { new: await child(path.join(outDir.new, 'children.mjs'), 'proxy'), base: await child(path.join(outDir.base, 'children.mjs'), 'proxy') };
const CHUNKS = uploadChunks();

/** One upload of MB MiB straight to the upstream (port undefined) or through a proxy; resolves with MB/s. */
function upload(proxyPort: number | undefined): Promise<number> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const target = `http://127.0.0.1:${up.port}/upload`;
    const req = request({ host: '127.0.0.1', port: proxyPort ?? up.port, method: 'POST', path: proxyPort === undefined ? '/upload' : target, agent: false, headers: { 'content-type': 'text/plain', 'content-length': String(MB * 1048576) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 && Number(body) === MB * 1048576 ? resolve((MB * 1048576) / 1e6 / ((performance.now() - t) / 1000)) : reject(new Error(`status ${res.statusCode ?? 0}: ${body.slice(0, 200)}`))));
    });
    req.on('error', reject);
    sendChunks(req, CHUNKS, MB);
  });
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, SETTLE));

// Warm-up: each proxy starts its worker and compiles its scanner on its first large body.
for (const p of Object.values(proxies)) await upload(p.port);
const got = { direct: [] as number[], new: [] as number[], base: [] as number[] };
const cpu = { new: [] as number[], base: [] as number[] };
for (let t = 0; t < TURNS; t++) {
  await settle();
  got.direct.push(await upload(undefined));
  // Alternate which proxy goes first.
  for (const name of t % 2 === 0 ? (['new', 'base'] as const) : (['base', 'new'] as const)) {
    await settle();
    const c0 = cpuMs(proxies[name].pid);
    got[name].push(await upload(proxies[name].port));
    cpu[name].push(cpuMs(proxies[name].pid) - c0);
  }
  process.stdout.write(`turn ${t + 1}: direct ${got.direct[t]?.toFixed(0) ?? ''} | new ${got.new[t]?.toFixed(0) ?? ''} MB/s ${cpu.new[t] ?? ''} ms | base ${got.base[t]?.toFixed(0) ?? ''} MB/s ${cpu.base[t] ?? ''} ms\n`);
}
process.stdout.write(`${TURNS} turns of ${MB} MiB, medians: direct ${median(got.direct).toFixed(0)} MB/s | new ${median(got.new).toFixed(0)} MB/s, proxy CPU ${median(cpu.new)} ms (${Math.min(...cpu.new)}-${Math.max(...cpu.new)}) | base ${median(got.base).toFixed(0)} MB/s, proxy CPU ${median(cpu.base)} ms (${Math.min(...cpu.base)}-${Math.max(...cpu.base)}); new >= 200 MB/s in ${got.new.filter((r) => r >= 200).length}/${TURNS}, base in ${got.base.filter((r) => r >= 200).length}/${TURNS}\n`);
process.exit(0);
