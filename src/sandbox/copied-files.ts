/**
 * The files bwrap copies into the sandbox (`--file FD PATH`, see
 * `BwrapLayout.copiedFiles`): opened here, read by bwrap from the fds it is
 * handed. A file that cannot be opened any more (removed since it was looked
 * at) is handed over as /dev/null, so it appears empty, as bwrap's
 * `--ro-bind-try` would have left it out: the run does not fail on it.
 */
import { closeSync, constants, openSync, readSync, type Stats } from 'node:fs';

/** The fd (in bwrap's table) of the first copied file; the others follow it (0-2 stdio, 3 status, 4 gate, 5 the helper's channel). */
export const COPIED_FILE_FD = 6;

/** System configuration files at most this big are copied into the sandbox rather than bound (see `BwrapLayout.copiedFiles`). */
export const MAX_COPIED_BYTES = 256 * 1024;

/**
 * This process's soft limit on the size of a file it writes (RLIMIT_FSIZE,
 * which bwrap inherits: a copy above it fails, "File too large"), in bytes;
 * Infinity when unlimited, 0 when it cannot be read (then nothing is copied).
 */
export function fileSizeLimit(): number {
  let fd: number | undefined;
  try {
    // One read into a fixed buffer (the file is ~1.3 KB): readFileSync of a /proc file (size 0) with an encoding
    // runs its general JavaScript path, which costs ~1.5 ms on the start-up path of `cordon run`, cold.
    fd = openSync('/proc/self/limits', constants.O_RDONLY);
    const buf = Buffer.allocUnsafe(8192);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const m = /^Max file size\s+(\S+)/m.exec(buf.toString('latin1', 0, n));
    if (m === null) return 0;
    return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return 0;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Whether a path with these attributes is copied (a small regular file under /etc, within the file size limit) rather than bound. */
export function copyable(p: string, st: Stats, limit: number): boolean {
  return st.isFile() && st.size <= MAX_COPIED_BYTES && st.size <= limit && p.startsWith('/etc/');
}

/** Opens `paths` for reading, in order. O_NONBLOCK: a path swapped for a FIFO since it was looked at must not block the open (bwrap then reads it as empty). */
export function openCopies(paths: readonly string[]): number[] {
  const fds: number[] = [];
  try {
    for (const p of paths) {
      let fd: number;
      try {
        fd = openSync(p, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
      } catch {
        fd = openSync('/dev/null', constants.O_RDONLY);
      }
      fds.push(fd);
    }
  } catch (e) {
    closeCopies(fds);
    throw e;
  }
  return fds;
}

export function closeCopies(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}
