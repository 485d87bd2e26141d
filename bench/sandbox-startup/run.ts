/**
 * Start-up cost, side by side in one run (N=30 each, median and p90 wall time;
 * the variants interleaved round by round, so a drifting machine slows them alike):
 *   bare    `bwrap --unshare-all --ro-bind / / true` (the floor for any bubblewrap sandbox)
 *   node    `node -e 0` (the floor for any Node.js supervisor; without NODE_EXTRA_CA_CERTS, as bin/cordon starts it)
 *   runner  runSandboxed(true) in one process, warm (what the sandbox itself costs per run)
 *   cli     `cordon run -- true` through bin/cordon (npm run build first; with its front, native/front, when built,
 *           and once more with CORDON_FRONT=0): with the sandbox plan cached
 *           (every run after the first with the same policy and command line: the plan, the remembered
 *           sandbox argv that bubblewrap starts from while cordon loads, and the code cache), and cold (a fresh
 *           state directory each time: the policy is parsed and compiled); and the supervisor's peak RSS
 *   srt     `srt true` when SRT_BIN points at an installed @anthropic-ai/sandbox-runtime
 *           (npm i @anthropic-ai/sandbox-runtime in a scratch dir; it needs Debian's ripgrep and socat)
 * Usage: node --import tsx bench/sandbox-startup/run.ts [N]
 * Targets (issue 3): cli median <= 0.25 x srt, and within 60 ms of bare bwrap; cli peak RSS <= 60 MB.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.argv[2] ?? 30);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');

/** Pause between two timed runs (ms). */
const SETTLE_MS = 30;

interface Variant {
  readonly name: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly before?: () => void;
}

/**
 * Wall times of every variant, interleaved: each round runs each variant once, in turn, so a machine whose
 * speed drifts over seconds (a shared VM) slows them alike, instead of whichever block ran in a slow stretch;
 * SETTLE_MS apart.
 * Two warm-up rounds are not counted. A variant that fails is dropped and its error kept.
 */
function timeInterleaved(variants: readonly Variant[]): { times: Map<string, number[]>; errors: Map<string, string> } {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const errors = new Map<string, string>();
  for (let i = 0; i < N + 2; i++) {
    for (const v of variants) {
      if (errors.has(v.name)) continue;
      v.before?.();
      const t = process.hrtime.bigint();
      const r = spawnSync(v.file, v.args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: v.cwd, env: v.env });
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (r.status !== 0) {
        errors.set(v.name, `${v.file} ${v.args.join(' ')} exited ${r.status}: ${r.stderr.toString().split('\n')[0] ?? ''}`);
        continue;
      }
      if (i >= 2) times.get(v.name)?.push(ms);
      // A settling pause: what a run leaves to the kernel (a network namespace is torn down asynchronously) and
      // the helpers srt starts finish before the next run is timed, so no run pays for the one before it.
      Atomics.wait(pause, 0, 0, SETTLE_MS);
    }
  }
  for (const xs of times.values()) xs.sort((a, b) => a - b);
  return { times, errors };
}

const q = (xs: readonly number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
const median = (xs: readonly number[] | undefined): number => q(xs ?? [], 0.5);

const { NODE_EXTRA_CA_CERTS: _ca, ...envNoCa } = process.env;
const ws = mkdtempSync(join(tmpdir(), 'cordon-bench-'));
const rows = new Map<string, number[]>();
const inproc = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'runner-true.ts'), ws, '--loop', String(N)], { cwd: root, encoding: 'utf8' });

const binCordon = join(root, 'bin/cordon');
// What bin/cordon starts for `cordon run` (it loads dist/bin/run.cjs with V8's code cache).
const runEntry = join(root, 'dist/bin/run-loader.cjs');
const variants: Variant[] = [
  { name: 'bwrap --unshare-all --ro-bind / / true', file: 'bwrap', args: ['--unshare-all', '--ro-bind', '/', '/', 'true'] },
  { name: 'node -e 0 (node start-up)', file: process.execPath, args: ['-e', '0'], env: envNoCa },
];
let cliRssKiB: number | undefined;
const state = mkdtempSync(join(tmpdir(), 'cordon-bench-state-'));
let cold = '';
if (existsSync(runEntry)) {
  variants.push({ name: 'cordon run -- true (plan cached)', file: binCordon, args: ['run', '--', 'true'], cwd: ws, env: { ...process.env, XDG_STATE_HOME: state } });
  // The same without bin/cordon's front (native/front): the caller then also waits for Node's own teardown.
  if (existsSync(join(root, 'native/front/build/cordon-front'))) {
    variants.push({ name: 'the same, node started directly (CORDON_FRONT=0)', file: binCordon, args: ['run', '--', 'true'], cwd: ws, env: { ...process.env, XDG_STATE_HOME: state, CORDON_FRONT: '0' } });
  }
  variants.push({
    name: 'cordon run -- true (cold: policy compiled)', file: binCordon, args: ['run', '--', 'true'], cwd: ws,
    env: { ...process.env, get XDG_STATE_HOME() { return cold; } },
    before: () => {
      if (cold !== '') rmSync(cold, { recursive: true, force: true });
      cold = mkdtempSync(join(tmpdir(), 'cordon-bench-cold-'));
    },
  });
}
const srt = process.env['SRT_BIN'];
if (srt !== undefined) variants.push({ name: 'srt true', file: srt, args: ['true'], cwd: ws });
const measured = timeInterleaved(variants);
for (const v of variants) {
  const xs = measured.times.get(v.name) ?? [];
  if (!measured.errors.has(v.name) && xs.length > 0) rows.set(v.name, xs);
  else if (v.name !== 'srt true') throw new Error(measured.errors.get(v.name) ?? `${v.name}: no times`);
}
rows.set('runSandboxed(true), in-process', JSON.parse(inproc.stdout) as number[]);
const srtError = measured.errors.get('srt true');
if (cold !== '') rmSync(cold, { recursive: true, force: true });
if (existsSync(runEntry)) {
  // The supervisor as bin/cordon starts it (the same node flags), the plan cached; the largest of three runs.
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(process.execPath, ['--min-semi-space-size=2', '--preserve-symlinks-main', '-r', join(here, 'rss-hook.cjs'), runEntry, 'run', '--', 'true'], { cwd: ws, env: { ...envNoCa, XDG_STATE_HOME: state }, encoding: 'utf8' });
    const m = /cordon-bench-maxrss-kib=(\d+)/.exec(r.stderr);
    if (m === null) {
      cliRssKiB = undefined;
      break;
    }
    cliRssKiB = Math.max(cliRssKiB ?? 0, Number(m[1]));
  }
}
rmSync(state, { recursive: true, force: true });
rmSync(ws, { recursive: true, force: true });

console.log(`sandbox start-up, N=${N}, wall time in ms`);
console.log(`${'what'.padEnd(44)}${'median'.padStart(9)}${'p90'.padStart(9)}${'min'.padStart(9)}`);
for (const [name, xs] of rows) {
  console.log(`${name.padEnd(44)}${q(xs, 0.5).toFixed(1).padStart(9)}${q(xs, 0.9).toFixed(1).padStart(9)}${(xs[0] ?? NaN).toFixed(1).padStart(9)}`);
}
const bare = median(rows.get('bwrap --unshare-all --ro-bind / / true'));
const node = median(rows.get('node -e 0 (node start-up)'));
const cli = median(rows.get('cordon run -- true (plan cached)'));
const srtMedian = median(rows.get('srt true'));
if (!Number.isFinite(cli)) console.log('cordon run: not measured (run `npm run build` first)');
else {
  console.log(`cordon run -- true: median ${cli.toFixed(1)} ms = bare bwrap + ${(cli - bare).toFixed(1)} ms (target: within 60 ms); of that, node's own start-up is ${node.toFixed(1)} ms`);
  console.log(`cordon run -- true: peak RSS of the supervisor ${cliRssKiB === undefined ? 'unknown' : `${(cliRssKiB / 1024).toFixed(1)} MB`} (target <= 60 MB)`);
  if (Number.isFinite(srtMedian)) console.log(`cordon run / srt: ${(cli / srtMedian).toFixed(2)} x (target <= 0.25 x)`);
}
if (srt === undefined) console.log('srt: not measured (set SRT_BIN=/path/to/node_modules/.bin/srt)');
else if (srtError !== undefined) console.log(`srt: could not run: ${srtError}`);
