/**
 * Host-side lookups done before spawning: where bwrap is, and whether the
 * command exists and is executable *as the sandbox will see it* (only paths
 * under a bound root and not hidden). bwrap reports an exec failure as its own
 * exit status 1, which is indistinguishable from the command's, so 126/127
 * are decided here.
 */
import { statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { CordonError } from '../errors.js';
import type { SandboxSpec } from './spec.js';

function isExecutableFile(p: string): 'ok' | 'missing' | 'not-executable' {
  try {
    const st = statSync(p, { throwIfNoEntry: false }); // most candidates of a PATH search are absent: no exception each
    if (st === undefined) return 'missing';
    if (!st.isFile()) return st.isDirectory() ? 'not-executable' : 'missing';
    return (st.mode & 0o111) !== 0 ? 'ok' : 'not-executable';
  } catch {
    return 'missing';
  }
}

/** Find bwrap on `path` (default: the supervisor's PATH). */
export function findBwrap(path: string | undefined = process.env['PATH']): string {
  for (const dir of (path ?? '/usr/bin:/bin').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const p = join(dir, 'bwrap');
    if (isExecutableFile(p) === 'ok') return p;
  }
  throw new CordonError(
    'CORDON_SANDBOX_UNAVAILABLE',
    'bubblewrap (bwrap) was not found on PATH; install it with `apt-get install -y bubblewrap` (Debian/Ubuntu) or `dnf install -y bubblewrap` (Fedora), then run `cordon doctor`',
  );
}

function within(p: string, root: string): boolean {
  return p === root || p.startsWith(root.endsWith('/') ? root : root + '/');
}

/** True when `p` is bound into the sandbox and not hidden. */
export function visibleInSandbox(spec: SandboxSpec, extraRoots: readonly string[], p: string): boolean {
  if (spec.hidden.some((h) => within(p, h))) return false;
  return [spec.workspace, ...spec.readOnly, ...spec.readWrite, ...extraRoots].some((r) => within(p, r));
}

/**
 * Resolve `cmd` like execvp inside the sandbox. Throws
 * `CORDON_SANDBOX_CMD_NOT_FOUND` (exit 127) or `CORDON_SANDBOX_CMD_NOT_EXECUTABLE` (exit 126).
 */
export function resolveSandboxCommand(spec: SandboxSpec, extraRoots: readonly string[], cmd: string): string {
  if (cmd === '') throw new CordonError('CORDON_SANDBOX_CMD_NOT_FOUND', 'no command given');
  let notExec: string | undefined;
  const candidates = cmd.includes('/')
    ? [resolve(spec.cwd, cmd)]
    : (spec.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin')
        .split(delimiter)
        .filter((d) => d !== '' && isAbsolute(d))
        .map((d) => join(d, cmd));
  for (const c of candidates) {
    if (!visibleInSandbox(spec, extraRoots, c)) continue;
    const r = isExecutableFile(c);
    if (r === 'ok') return c;
    if (r === 'not-executable') notExec ??= c;
  }
  if (notExec !== undefined) {
    throw new CordonError('CORDON_SANDBOX_CMD_NOT_EXECUTABLE', `${cmd}: permission denied (${notExec} is not an executable file)`);
  }
  throw new CordonError(
    'CORDON_SANDBOX_CMD_NOT_FOUND',
    `${cmd}: command not found inside the sandbox (searched ${cmd.includes('/') ? 'that path' : 'the sandbox PATH'}; paths outside the bound directories are invisible)`,
  );
}
