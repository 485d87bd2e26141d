/**
 * Start-up cost, side by side in one run (N=30 each, median and p90 wall time):
 *   bare    `bwrap --unshare-all --ro-bind / / true`
 *   runner  a fresh node process importing src/sandbox/runner and running `true`
 *           with the default spec (what `cordon run -- true` pays, minus CLI parsing)
 *   cli     `cordon run -- true` through bin/cordon (npm run build first), and the supervisor's peak RSS
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

function time(file: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): number[] {
  const out: number[] = [];
  for (let i = 0; i < N + 2; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
    if (i >= 2) out.push(ms); // two warm-up runs
  }
  return out.sort((a, b) => a - b);
}

const q = (xs: readonly number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;

const ws = mkdtempSync(join(tmpdir(), 'cordon-bench-'));
const rows: [string, number[]][] = [];
rows.push(['bwrap --unshare-all --ro-bind / / true', time('bwrap', ['--unshare-all', '--ro-bind', '/', '/', 'true'])]);
rows.push(['node -e 0 (baseline node start)', time(process.execPath, ['-e', '0'])]);
const inproc = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'runner-true.ts'), ws, '--loop', String(N)], { cwd: join(here, '../..'), encoding: 'utf8' });
rows.push(['runSandboxed(true) in-process', (JSON.parse(inproc.stdout) as number[])]);
rows.push(['fresh node + tsx + runner true', time(process.execPath, ['--import', 'tsx', join(here, 'runner-true.ts'), ws], { cwd: join(here, '../..') })]);
const distCli = join(here, '../../dist/bin/main.js');
const binCordon = join(here, '../../bin/cordon');
const rssHook = join(here, 'rss-hook.mjs');
let cliRssKiB: number | undefined;
let cliMedianIndex = -1;
if (existsSync(distCli)) {
  const state = mkdtempSync(join(tmpdir(), 'cordon-bench-state-'));
  const env = { ...process.env, XDG_STATE_HOME: state };
  cliMedianIndex = rows.length;
  rows.push(['cordon run -- true (bin/cordon)', time(binCordon, ['run', '--', 'true'], { cwd: ws, env })]);
  const r = spawnSync(process.execPath, ['--import', rssHook, distCli, 'run', '--', 'true'], { cwd: ws, env, encoding: 'utf8' });
  const m = /cordon-bench-maxrss-kib=(\d+)/.exec(r.stderr);
  cliRssKiB = m ? Number(m[1]) : undefined;
  rmSync(state, { recursive: true, force: true });
}
const srt = process.env['SRT_BIN'];
let srtIndex = -1;
let srtError: string | undefined;
if (srt !== undefined) {
  try {
    srtIndex = rows.length;
    rows.push(['srt true', time(srt, ['true'], { cwd: ws })]);
  } catch (e) {
    srtError = (e as Error).message.split('\n')[0];
  }
}
rmSync(ws, { recursive: true, force: true });

console.log(`sandbox start-up, N=${N}, wall time in ms`);
console.log(`${'what'.padEnd(44)}${'median'.padStart(9)}${'p90'.padStart(9)}${'min'.padStart(9)}`);
for (const [name, xs] of rows) {
  console.log(`${name.padEnd(44)}${q(xs, 0.5).toFixed(1).padStart(9)}${q(xs, 0.9).toFixed(1).padStart(9)}${(xs[0] ?? NaN).toFixed(1).padStart(9)}`);
}
const bare = q(rows[0]?.[1] ?? [], 0.5);
const node = q(rows[1]?.[1] ?? [], 0.5);
const runner = q(rows[2]?.[1] ?? [], 0.5);
void node;
console.log(`runner overhead over bare bwrap (in-process, what cordon adds per run): ${(runner - bare).toFixed(1)} ms`);
console.log('the fresh-process row includes node start-up and tsx transpilation; the CLI row (dist/) comes with `cordon run`');
const cli = cliMedianIndex >= 0 ? q(rows[cliMedianIndex]?.[1] ?? [], 0.5) : NaN;
const srtMedian = srtIndex >= 0 ? q(rows[srtIndex]?.[1] ?? [], 0.5) : NaN;
if (cliMedianIndex < 0) console.log('cordon run: not measured (run `npm run build` first)');
else {
  console.log(`cordon run -- true: median ${cli.toFixed(1)} ms = bare bwrap + ${(cli - bare).toFixed(1)} ms (target: within 60 ms)`);
  console.log(`cordon run -- true: peak RSS of the supervisor ${cliRssKiB === undefined ? 'unknown' : `${(cliRssKiB / 1024).toFixed(1)} MB`} (target <= 60 MB)`);
  if (Number.isFinite(srtMedian)) console.log(`cordon run / srt: ${(cli / srtMedian).toFixed(2)} x (target <= 0.25 x)`);
}
if (srt === undefined) console.log('srt: not measured (set SRT_BIN=/path/to/node_modules/.bin/srt)');
else if (srtError !== undefined) console.log(`srt: could not run: ${srtError}`);
else console.log(`runner / srt: ${(runner / q(rows[4]?.[1] ?? [], 0.5)).toFixed(2)}`);
