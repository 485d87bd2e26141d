/**
 * Sandboxed `true` through the runner (used by run.ts).
 *   runner-true.ts WS            one run (fresh process)
 *   runner-true.ts WS --loop N   N runs in this process; prints sorted wall times (ms) as JSON
 *   --rss                        print peak RSS to stderr
 */
import { scrubEnvironment } from '../../src/sandbox/env.js';
import { runSandboxed } from '../../src/sandbox/runner.js';
import { DEFAULT_PROTECTED_NAMES, defaultReadOnly, type SandboxSpec } from '../../src/sandbox/spec.js';

const ws = process.argv[2] ?? process.cwd();
const spec: SandboxSpec = {
  workspace: ws, readOnly: defaultReadOnly(), readWrite: [], hidden: [], protectedNames: [...DEFAULT_PROTECTED_NAMES],
  env: scrubEnvironment(process.env).env, network: { mode: 'none' }, cwd: ws,
};
const loop = process.argv.indexOf('--loop');
if (loop >= 0) {
  const n = Number(process.argv[loop + 1] ?? 30);
  const times: number[] = [];
  for (let i = 0; i < n + 2; i++) {
    const t = performance.now();
    const r = await runSandboxed(spec, ['true'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}`);
    if (i >= 2) times.push(performance.now() - t);
  }
  console.log(JSON.stringify(times.sort((a, b) => a - b)));
} else {
  const r = await runSandboxed(spec, ['true']);
  process.exitCode = r.exitCode;
}
if (process.argv.includes('--rss')) process.stderr.write(`maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB\n`);
