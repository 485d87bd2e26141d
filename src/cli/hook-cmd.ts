/**
 * `cordon hook claude-code|codex` and `cordon init claude-code|codex`, for
 * main.ts to wire. `hookCommand` never throws: every failure is exit 2 with
 * the reason on stderr (the harness then blocks the tool call).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { CordonError } from '../errors.js';
import { HARNESSES, type Harness } from '../hook/answer.js';
import { initHarness } from '../hook/init.js';
import { HOOK_BLOCK_EXIT, runHook } from '../hook/run.js';

export interface HookCommandOptions {
  readonly policy?: string[];
  readonly profile?: string;
  readonly workspace?: string;
  /** Answer `allow` instead of no opinion when the policy allows (skips the harness's own prompts). */
  readonly answerAllow?: boolean;
  /** Seconds to wait for a person's answer to an ask routed to cordon run's approvals. */
  readonly askWait?: string;
}

export interface InitCommandOptions {
  readonly managed?: boolean;
  readonly dryRun?: boolean;
  readonly user?: boolean;
  readonly file?: string;
  readonly workspace?: string;
}

function isHarness(s: string): s is Harness {
  return (HARNESSES as readonly string[]).includes(s);
}

/** `cordon hook <harness>`: 0 with the answer on stdout, 2 on any error. */
export async function hookCommand(harness: string, opts: HookCommandOptions): Promise<number> {
  if (!isHarness(harness)) {
    process.stderr.write(`cordon hook: unknown harness '${harness}'; use ${HARNESSES.join(' or ')}\ncordon hook: the tool call is blocked.\n`);
    return HOOK_BLOCK_EXIT;
  }
  return runHook(
    {
      harness,
      answerAllow: opts.answerAllow === true,
      policy: opts.policy ?? [],
      ...(opts.profile === undefined ? {} : { profile: opts.profile }),
      ...(opts.workspace === undefined ? {} : { workspace: opts.workspace }),
      // Not a whole number of seconds in range: the schema refuses it, and the hook blocks (exit 2).
      ...(opts.askWait === undefined ? {} : { askWaitMs: /^[0-9]{1,4}$/.test(opts.askWait) ? Number(opts.askWait) * 1000 : -1 }),
    },
    {
      stdin: process.stdin,
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
      env: process.env,
    },
  );
}

/**
 * How the hook command line runs this cordon: this node and the CLI entry next
 * to this module (`dist/bin/main.js` in the bundle, whose chunks sit beside
 * it; `dist/cli/main.js` from tsc; `src/cli/main.ts` through tsx from source).
 */
export function cordonArgv(): string[] {
  const fromSource = import.meta.url.endsWith('.ts');
  const main = fileURLToPath(new URL(fromSource ? './main.ts' : './main.js', import.meta.url));
  if (!existsSync(main)) throw new CordonError('CORDON_INTERNAL', `cannot find cordon's CLI entry at ${main}; reinstall cordon`);
  return fromSource ? [process.execPath, '--import', import.meta.resolve('tsx'), main] : [process.execPath, main];
}

/** `cordon init <harness>`: 0 written (or shown, with --dry-run); throws CordonError (CORDON_USAGE → 2). */
export function initCommand(harness: string, opts: InitCommandOptions): number {
  if (!isHarness(harness)) throw new CordonError('CORDON_USAGE', `unknown harness '${harness}'; use ${HARNESSES.join(' or ')}`);
  try {
    return initHarness(harness, opts, {
      stdout: (t) => process.stdout.write(t),
      env: process.env,
      home: os.homedir(),
      cordonArgv: cordonArgv(),
    });
  } catch (e) {
    if (e instanceof CordonError) throw e;
    throw new CordonError('CORDON_INTERNAL', `cordon init ${harness}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
