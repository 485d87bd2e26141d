/** Where session logs live and how sessions are named. */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { nodeCrypto } from '../lazy-crypto.js';
import { isAbsolute, join } from 'node:path';
import { homeDir } from '../host-dirs.js';
import { SESSION_ID_PATTERN } from './record-constants.js';

/**
 * `$XDG_STATE_HOME/cordon`, or `~/.local/state/cordon`. A relative
 * `XDG_STATE_HOME` is ignored, as the XDG specification requires.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env, home: string = homeDir()): string {
  const xdg = env['XDG_STATE_HOME'];
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return join(xdg, 'cordon');
  return join(home, '.local', 'state', 'cordon');
}

/** `s_` followed by 8 random hex characters. */
export function newSessionId(): string {
  return `s_${randomHex4()}`;
}

/** Four random bytes as hex: from the kernel's random device (no need to load node:crypto), else from node:crypto. */
function randomHex4(): string {
  const buf = Buffer.alloc(4);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, buf, 0, 4, null) === 4) return buf.toString('hex');
    } finally {
      closeSync(fd);
    }
  } catch {
    // no /dev/urandom here
  }
  return nodeCrypto().randomBytes(4).toString('hex');
}

export function isSessionId(s: string): boolean {
  return SESSION_ID_PATTERN.test(s);
}

/** `<dir>/<session>.jsonl`. */
export function sessionFile(dir: string, session: string): string {
  return join(dir, `${session}.jsonl`);
}

/**
 * The most recently modified `<session>.jsonl` in `dir`, or null when there is
 * none (or the directory does not exist). Ties are broken by name.
 */
export function latestSessionFile(dir: string): string | null {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  let best: { path: string; mtime: number; name: string } | null = null;
  for (const name of names) {
    if (!name.endsWith('.jsonl') || !isSessionId(name.slice(0, -'.jsonl'.length))) continue;
    const path = join(dir, name);
    let mtime: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) continue;
      mtime = st.mtimeMs;
    } catch {
      continue;
    }
    if (best === null || mtime > best.mtime || (mtime === best.mtime && name > best.name)) {
      best = { path, mtime, name };
    }
  }
  return best?.path ?? null;
}
