/**
 * How close the HTTP download row can get to direct at all: cordon's proxy
 * beside the floor of any TCP forwarder on this machine (relay-floor.c: a
 * minimal C forwarder, blocking threads, splice through a 1 MiB pipe or
 * read/write through a 1 MiB buffer) and srt's proxy, in turns with direct.
 *
 *   SRT_BIN=/path/to/srt node --import tsx bench/egress/floor.ts [--turns 15] [--mb 100]
 *
 * Per variant (medians over the turns): MB/s and its share of direct, the
 * CPU of the proxy, the upstream and the client (this process) per
 * download, their voluntary context switches, and the whole machine's time
 * per download from /proc/stat (busy = user + system + softirq; idle;
 * steal), 10 ms ticks. For cordon also the relay's own cost per download
 * (wake-ups, splice calls, waits on the source and on the client; from
 * CORDON_RELAY_STATS=1, src/egress/zero-copy.ts). Everything on loopback;
 * the C forwarder is built with `cc` into node_modules/.cache (missing `cc`:
 * its rows say why). srt missing: its row says why.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { countGet, cpuMs, median, plainTo } from './client.js';

const { values: opt } = parseArgs({ options: { turns: { type: 'string', default: '15' }, mb: { type: 'string', default: '100' } } });
const TURNS = Number(opt.turns);
const MB = Number(opt.mb);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = path.join(ROOT, 'node_modules', '.cache', 'cordon-bench-egress', `floor-${process.pid}`);
const DIR = mkdtempSync(path.join(tmpdir(), 'cordon-floor-'));
mkdirSync(OUT, { recursive: true });
const children: ChildProcess[] = [];
process.once('exit', () => {
  for (const c of children) c.kill();
  rmSync(DIR, { recursive: true, force: true });
  rmSync(OUT, { recursive: true, force: true });
});

const BUNDLE = path.join(OUT, 'children.mjs');
await build({
  entryPoints: [fileURLToPath(new URL('./children.ts', import.meta.url))], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: BUNDLE, logLevel: 'warning',
  banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
});

/** The C forwarder, compiled here (or why it is not). */
function buildFloor(): { bin: string } | { skip: string } {
  const bin = path.join(OUT, 'relay-floor');
  const r = spawnSync('cc', ['-O2', '-pthread', '-o', bin, fileURLToPath(new URL('./relay-floor.c', import.meta.url))], { encoding: 'utf8' });
  if (r.error !== undefined) return { skip: `cc could not run: ${r.error.message}` };
  if (r.status !== 0) return { skip: `cc failed: ${r.stderr.trim().split('\n')[0] ?? r.status}` };
  return { bin };
}

/** The sandbox-runtime package behind SRT_BIN (as run.ts finds it), or why there is none. */
function findSrt(): { pkg: string } | { skip: string } {
  const bin = process.env.SRT_BIN;
  if (bin === undefined) return { skip: 'SRT_BIN not set (the srt binary of @anthropic-ai/sandbox-runtime)' };
  if (!existsSync(bin)) return { skip: `SRT_BIN=${bin} does not exist` };
  const pkg = path.dirname(path.dirname(realpathSync(bin)));
  if (!existsSync(path.join(pkg, 'dist', 'sandbox', 'http-proxy.js'))) return { skip: `${bin} is not the srt of @anthropic-ai/sandbox-runtime` };
  return { pkg };
}

interface Child { readonly port: number; readonly pid: number; readonly proc: ChildProcess }
function start(file: string, args: readonly string[], env: Record<string, string>): Promise<Child> {
  const proc = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env, BIG_MB: String(MB), BENCH_DIR: DIR } });
  children.push(proc);
  proc.stderr?.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) {
      if (line.startsWith('cordon relay: ')) relayLines.push(line);
      else if (line.trim() !== '') process.stderr.write(`${path.basename(file)} ${args.join(' ')}: ${line}\n`);
    }
  });
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${file} ${args.join(' ')} exited (${code ?? 'signal'})`)));
    proc.stdout?.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), pid: proc.pid ?? 0, proc }));
  });
}
const relayLines: string[] = [];

/** Voluntary context switches of every thread of a process (threads that ended are not counted). */
const switches = (pid: number | 'self'): number => {
  let n = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      n += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return n;
};
/** The machine's user+nice, system, idle, softirq, steal in ms (all CPUs), from /proc/stat. */
const machine = (): number[] => {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map((x) => Number(x) * 10);
  const v = (i: number): number => f[i] ?? 0;
  return [v(0) + v(1), v(2), v(3), v(6), v(7)];
};


const up = await start(process.execPath, [BUNDLE, 'upstream'], {});
const host = `127.0.0.1:${up.port}`;
interface Variant { readonly name: string; readonly child?: Child; readonly target: string; readonly skip?: string }
const variants: Variant[] = [{ name: 'direct', target: '/big' }];
variants.push({ name: 'cordon', child: await start(process.execPath, [BUNDLE, 'proxy'], { CORDON_RELAY_STATS: '1' }), target: `http://${host}/big` });
const srt = findSrt();
if ('pkg' in srt) variants.push({ name: 'srt', child: await start(process.execPath, [BUNDLE, 'srt-proxy'], { SRT_PKG: srt.pkg }), target: `http://${host}/big` });
else variants.push({ name: 'srt', target: '', skip: srt.skip });
const floor = buildFloor();
for (const mode of ['splice', 'rw'] as const) {
  const name = `C ${mode}`;
  if ('bin' in floor) variants.push({ name, child: await start(floor.bin, [String(up.port), mode], {}), target: '/big' });
  else variants.push({ name, target: '', skip: floor.skip });
}

interface Sample { mbs: number; proxy: number; upstream: number; client: number; sw: [number, number, number]; sys: number[]; relay?: number[] }
const samples = new Map<string, Sample[]>();
async function once(v: Variant, keep: boolean): Promise<void> {
  const port = v.child?.port ?? up.port;
  const pid = v.child?.pid;
  const p0 = pid === undefined ? 0 : cpuMs(pid);
  const u0 = cpuMs(up.pid);
  const s0 = [pid === undefined ? 0 : switches(pid), switches(up.pid), switches('self')];
  const m0 = machine();
  const c0 = process.cpuUsage();
  relayLines.length = 0;
  const t = performance.now();
  const n = await countGet(plainTo(port), v.target, host);
  const dt = performance.now() - t;
  const c = process.cpuUsage(c0);
  const m1 = machine();
  if (!keep) return;
  // The relay's line arrives on the proxy's stderr right after its last bytes: wait for it briefly.
  if (v.name === 'cordon') for (let i = 0; i < 20 && relayLines.length === 0; i += 1) await new Promise((r) => setTimeout(r, 5));
  const rl = /(\d+) bytes, (\d+) wake-ups, splice (\d+) in (\d+) out, waits (\d+) in (\d+) out/.exec(relayLines[0] ?? '');
  const s = samples.get(v.name) ?? [];
  samples.set(v.name, s);
  s.push({
    mbs: n / 1e6 / (dt / 1000),
    proxy: pid === undefined ? 0 : cpuMs(pid) - p0,
    upstream: cpuMs(up.pid) - u0,
    client: (c.user + c.system) / 1000,
    sw: [pid === undefined ? 0 : switches(pid) - (s0[0] ?? 0), switches(up.pid) - (s0[1] ?? 0), switches('self') - (s0[2] ?? 0)],
    sys: m1.map((x, i) => x - (m0[i] ?? 0)),
    ...(rl === null ? {} : { relay: rl.slice(2).map(Number) }),
  });
}

const live = variants.filter((v) => v.skip === undefined);
for (let w = 0; w < 2; w += 1) for (const v of live) await once(v, false);
for (let i = 0; i < TURNS; i += 1) for (const v of live) await once(v, true);

const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const out: string[] = [`${MB} MB HTTP download, median of ${TURNS} turns, load ${load}; CPU ms per download; machine ms per download from /proc/stat (2 CPUs)`];
const directMbs = median((samples.get('direct') ?? []).map((s) => s.mbs));
const srtMbs = median((samples.get('srt') ?? []).map((s) => s.mbs));
out.push(`${'variant'.padEnd(9)} ${'MB/s'.padStart(6)} ${'direct'.padStart(6)} ${'x srt'.padStart(6)} | cpu proxy upstream client | vol. switches p/u/c | machine busy (softirq) idle steal`);
for (const v of variants) {
  if (v.skip !== undefined) {
    out.push(`${v.name.padEnd(9)} n/a: ${v.skip}`);
    continue;
  }
  const s = samples.get(v.name) ?? [];
  const med = (f: (x: Sample) => number): number => median(s.map(f));
  const mbs = med((x) => x.mbs);
  const busy = med((x) => (x.sys[0] ?? 0) + (x.sys[1] ?? 0) + (x.sys[3] ?? 0));
  out.push(`${v.name.padEnd(9)} ${mbs.toFixed(0).padStart(6)} ${`${((mbs / directMbs) * 100).toFixed(0)}%`.padStart(6)} ${(mbs / srtMbs).toFixed(2).padStart(6)} | ${[med((x) => x.proxy), med((x) => x.upstream), med((x) => x.client)].map((x) => x.toFixed(0).padStart(5)).join(' ')}` +
    ` | ${[0, 1, 2].map((i) => med((x) => x.sw[i] ?? 0).toFixed(0)).join('/').padStart(12)} | ${busy.toFixed(0).padStart(5)} (${med((x) => x.sys[3] ?? 0).toFixed(0)}) ${med((x) => x.sys[2] ?? 0).toFixed(0)} ${med((x) => x.sys[4] ?? 0).toFixed(0)}`);
}
const rel = (samples.get('cordon') ?? []).flatMap((x) => (x.relay === undefined ? [] : [x.relay]));
if (rel.length > 0) {
  const m = (i: number): string => median(rel.map((r) => r[i] ?? 0)).toFixed(0);
  out.push(`cordon's relay per download (median of ${rel.length}): ${m(0)} wake-ups, splice ${m(1)} in ${m(2)} out, waits ${m(3)} for the upstream ${m(4)} for the client`);
} else out.push('cordon\'s relay reported nothing (addon missing or CORDON_NO_SPLICE=1: the JavaScript path ran)');
process.stdout.write(`${out.join('\n')}\n`);
process.exit(0);
