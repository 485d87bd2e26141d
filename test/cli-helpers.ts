/** Runs the cordon CLI as a real process (from source through tsx, or the built dist/). */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST_BIN = fileURLToPath(new URL('../dist/bin/main.js', import.meta.url));
const SRC_BIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
/** tsx resolved from this repository, so the CLI can run from any working directory. */
export const TSX = import.meta.resolve('tsx');

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function cordon(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; dist?: boolean } = {}): CliResult {
  const argv = opts.dist === true ? [DIST_BIN, ...args] : ['--import', TSX, SRC_BIN, ...args];
  const r = spawnSync(process.execPath, argv, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, CORDON_MANAGED_POLICY: '/nonexistent/cordon-managed.yaml', XDG_CONFIG_HOME: '/nonexistent/xdg', ...opts.env },
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const distBuilt = (): boolean => existsSync(DIST_BIN);

/** `cordon` (from source) as an async child, for tests whose servers live in the test process (a synchronous spawn would block them). */
export function cordonAsync(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): { child: ChildProcessByStdio<null, Readable, Readable>; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', TSX, SRC_BIN, ...args], {
    cwd, env: { ...process.env, CORDON_MANAGED_POLICY: '/nonexistent/m.yaml', XDG_CONFIG_HOME: '/nonexistent/xdg', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return { child, done };
}
