/**
 * Where a session's approval socket and answer key live: a 0700 directory
 * under the user's runtime directory (`$XDG_RUNTIME_DIR/cordon/approvals`) or,
 * without one, under the state directory (`~/.local/state/cordon/approvals`).
 * Neither is ever bound into a sandbox (the sandbox's home is private and
 * `cordon run` checks the directory is outside every bound path).
 */
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { stateDir } from '../audit/paths.js';
import { CordonError } from '../errors.js';

/** Linux `sun_path` is 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export function approvalsDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['CORDON_APPROVALS_DIR'];
  if (explicit !== undefined && explicit !== '' && isAbsolute(explicit)) return explicit;
  const run = env['XDG_RUNTIME_DIR'];
  if (run !== undefined && run !== '' && isAbsolute(run) && privateDir(run)) return join(run, 'cordon', 'approvals');
  return join(stateDir(env), 'approvals');
}

function privateDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** Creates `dir` (and parents) and checks it is a real directory of ours that nobody else can enter. */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch (e) {
    throw new CordonError('CORDON_APPROVAL', `cannot create the approvals directory ${dir} (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!privateDir(dir)) {
    throw new CordonError('CORDON_APPROVAL', `the approvals directory ${dir} is not a private directory owned by this user (mode 0700); remove it and retry`);
  }
}

export function socketPath(dir: string, session: string): string {
  const p = join(dir, `${session}.sock`);
  if (Buffer.byteLength(p) > MAX_SOCKET_PATH) {
    throw new CordonError('CORDON_APPROVAL', `the approval socket path ${p} is longer than ${MAX_SOCKET_PATH} bytes; set CORDON_APPROVALS_DIR to a shorter absolute directory`);
  }
  return p;
}

export function keyPath(dir: string, session: string): string {
  return join(dir, `${session}.key`);
}
