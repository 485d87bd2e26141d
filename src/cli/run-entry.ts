/**
 * The entry point of `cordon run` (bin/cordon starts it when the first
 * argument is `run`). It is bundled on its own, as one CommonJS file without
 * the command-line library, the policy loader, the egress proxy or the
 * approval service.
 *
 * Its first act, before the rest of the file is even evaluated, is to spawn
 * the sandbox of the last run of this very command line (src/sandbox/early.ts;
 * run-loader.ts does it even before loading this bundle and hands it over):
 * bubblewrap builds it while cordon loads and computes this run's sandbox, and
 * the command starts only if the two are identical. The rest (run-hot.ts)
 * serves the common run and hands anything else (help, an unusual argument, a
 * changed policy, a run with network) to the full program (main.js) before
 * anything has been started, so the two bundles never share a run.
 */
import { abandonIfPending, type Speculation, speculateRun } from '../sandbox/early.js';

/** Set by run-loader.ts (the seventh parameter of its wrapper), which spawns the early sandbox before loading this bundle; undeclared otherwise. */
declare const __cordonSpeculation: Speculation | null | undefined;

const speculation = (typeof __cordonSpeculation !== 'undefined' ? __cordonSpeculation : speculateRun()) ?? undefined;

let served = false;

/** True once this bundle has served a run itself (run-loader.ts keeps a code cache only of such a run). */
export function servedHere(): boolean {
  return served;
}

import('./run-hot.js').then(async ({ runHot }) => {
  served = await runHot(speculation);
  // The run is over, its records written and its directories removed: exit now instead of tearing the heap down (~2 ms).
  if (served) process.exit();
}).catch(async (e: unknown) => {
  process.stderr.write(`cordon: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 125;
  // An early sandbox still waiting at its gate would keep the process alive: it gets the program that kills its command.
  await abandonIfPending(speculation?.early ?? null);
});
