/**
 * The part of `cordon run`'s entry point loaded after the early sandbox has
 * been spawned (see run-entry.ts): serves the common run (the small argument
 * parser understands it, the sandbox plan is cached, the policy allows no
 * network and names no MCP servers) and hands anything else to the full
 * program (main.js) before anything has been started.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { policyCacheFile, policyKeyMaterial } from '../policy/cache-key.js';
import { abandonIfPending, type Speculation } from '../sandbox/early.js';
import { readPlan } from '../sandbox/plan-cache.js';
import type { SandboxPlan } from '../sandbox/plan.js';
import { isCordonError } from '../errors.js';
import { exitCodeFor } from './exit.js';
import { loadOptions } from './policy-options.js';
import { parseRunArgs, type ParsedRun } from './run-args.js';
import { runCommand } from './run-cmd.js';

/** Set by run-loader.ts (the sixth parameter of its wrapper) when it loaded this bundle; undeclared otherwise. */
declare const __cordonImport: ((url: string) => Promise<unknown>) | undefined;

/** The cached plan when this run can be served here; null sends it to the full program. */
function hotPlan(parsed: ParsedRun): { key: string; plan: SandboxPlan } | null {
  if (parsed.opts.reportOnly === true) return null;
  const material = policyKeyMaterial(loadOptions(parsed.opts));
  const entry = material === null ? null : readPlan(material);
  if (entry === null) return null;
  const { plan, policyKey } = entry;
  if (plan.allowsNetwork || plan.mcpServers.length > 0 || !existsSync(policyCacheFile(policyKey))) return null;
  return { key: policyKey, plan };
}

/** Serves the run, or hands it to main.js; true when it was served here. */
export async function runHot(speculation: Speculation | undefined): Promise<boolean> {
  let parsed: ParsedRun | null;
  let hot: { key: string; plan: SandboxPlan } | null;
  try {
    parsed = process.argv[2] === 'run' ? parseRunArgs(process.argv.slice(3)) : null;
    hot = parsed === null ? null : hotPlan(parsed);
  } catch (e) {
    // The early sandbox waits at its gate for a program: without this it would keep the process alive forever.
    await abandonIfPending(speculation?.early ?? null);
    throw e;
  }
  if (parsed === null || hot === null) {
    await abandonIfPending(speculation?.early ?? null);
    const url = pathToFileURL(path.join(import.meta.dirname, 'main.js')).href;
    // Loaded by run-loader.cjs (a function compiled from V8's code cache cannot import): its import, else our own.
    await (typeof __cordonImport === 'function' ? __cordonImport(url) : import(url));
    return false;
  }
  try {
    process.exitCode = await runCommand(parsed.cmd, parsed.opts, { ...hot, ...(speculation === undefined ? {} : { speculation }) });
  } catch (e) {
    if (isCordonError(e)) {
      process.stderr.write(`cordon: ${e.message}\n`);
      process.exitCode = exitCodeFor(e.code, 'run');
    } else {
      process.stderr.write(`cordon: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 125;
    }
  } finally {
    await abandonIfPending(speculation?.early ?? null);
  }
  return true;
}
