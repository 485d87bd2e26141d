/**
 * File descriptors this process inherited, beyond the standard streams, are
 * closed before any sandbox is spawned. bubblewrap hands every fd it inherits
 * to the command, and so would cordon: a make jobserver pipe, a terminal, an
 * agent harness's socket or, worst, an open directory outside the sandbox
 * (from which `openat(fd, "..")` walks anywhere) would be the command's to
 * use. sudo closes them for the same reason.
 *
 * What was inherited: an fd open without close-on-exec (every fd that
 * survived the exec of node had it clear; Node and libuv open all of theirs
 * with it set). bin/cordon's front (native/front) closes them in C before
 * node starts; this is the same for a cordon started another way.
 */
import { closeSync, constants, openSync, readdirSync, readSync } from 'node:fs';

/** O_CLOEXEC as /proc/<pid>/fdinfo shows it (the "flags:" line, octal). */
const O_CLOEXEC = 0o2000000;

/**
 * Closes every inherited fd above 2 except `keep`; returns those closed. Where
 * /proc cannot be read, nothing is closed (the fds cannot be told apart).
 */
export function closeInheritedFds(keep: readonly number[] = []): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return [];
  }
  const closed: number[] = [];
  // openSync/readSync into one buffer: readFileSync's general path costs twice as much cold (~4 ms for 16 fds).
  const buf = Buffer.allocUnsafe(512);
  for (const name of names) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd <= 2 || keep.includes(fd)) continue;
    let info: string;
    try {
      const f = openSync(`/proc/self/fdinfo/${fd}`, constants.O_RDONLY);
      try {
        info = buf.toString('latin1', 0, readSync(f, buf, 0, buf.length, 0));
      } finally {
        closeSync(f);
      }
    } catch {
      continue; // gone (the directory listing's own fd)
    }
    const m = /^flags:\s*([0-7]+)$/m.exec(info);
    if (m === null || (parseInt(m[1] ?? '0', 8) & O_CLOEXEC) !== 0) continue;
    try {
      closeSync(fd);
      closed.push(fd);
    } catch {
      // already closed
    }
  }
  return closed;
}
