/**
 * Runs the hook as a real process, input on stdin: the built CLI
 * (dist/bin/main.js) when it is newer than every source file (CI builds
 * first; a start costs ~0.1 s instead of several seconds of tsx), otherwise
 * node + tsx + test/hook/entry.ts on the sources.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TSX = import.meta.resolve('tsx');
export const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));
const DIST_MAIN = fileURLToPath(new URL('../../dist/bin/main.js', import.meta.url));
const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** The command that runs `cordon` for these tests, and which one it is. */
export const HOOK_CLI: { readonly argv: readonly string[]; readonly built: boolean } =
  existsSync(DIST_MAIN) && statSync(DIST_MAIN).mtimeMs >= newestSource(SRC)
    ? { argv: [DIST_MAIN], built: true }
    : { argv: ['--import', TSX, ENTRY], built: false };

export interface HookRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Environment for a hook child: no managed or user policy, no inherited project dir, state under `state`. */
export function hookEnv(home: string, state: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['CLAUDE_PROJECT_DIR'];
  delete env['CORDON_SESSION'];
  return { ...env, HOME: home, XDG_STATE_HOME: state, CORDON_MANAGED_POLICY: '/nonexistent/cordon-managed.yaml', XDG_CONFIG_HOME: '/nonexistent/xdg', ...extra };
}

/** `input === null` keeps stdin open (for the timeout case). */
export function runHookProcess(args: readonly string[], input: string | Buffer | null, opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<HookRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...HOOK_CLI.argv, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(killer);
      reject(e);
    });
    child.on('close', (status) => {
      clearTimeout(killer);
      resolve({ status, stdout, stderr, ms: Date.now() - started });
    });
    // The child may exit before reading everything (oversized input): ignore EPIPE.
    child.stdin.on('error', () => undefined);
    if (input !== null) child.stdin.end(input);
  });
}
