/**
 * The user's home directory and the system temporary directory, computed as
 * node:os computes them but read from the environment first, so that the
 * common case does not load node:os (its first use costs about a millisecond
 * of a `cordon run` that lasts tens).
 */
import type * as Os from 'node:os';

function os(): typeof Os {
  return process.getBuiltinModule('node:os');
}

/** `os.homedir()`: `$HOME` when it is set (even empty, as libuv does), else the password database. */
export function homeDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env['HOME'];
  return home !== undefined ? home : os().homedir();
}

/** `os.tmpdir()` on POSIX: the first non-empty of TMPDIR, TMP, TEMP, else /tmp; without a trailing slash. */
export function tempDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['TMPDIR'] || env['TMP'] || env['TEMP'] || '/tmp';
  return dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
}

/** The number of a signal on this platform (node:os is loaded only here, when a signal is sent). */
export function signalNumber(signal: NodeJS.Signals): number {
  return os().constants.signals[signal];
}
