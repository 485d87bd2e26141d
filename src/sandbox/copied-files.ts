/**
 * The files bwrap copies into the sandbox (`--file FD PATH`, see
 * `BwrapLayout.copiedFiles`): opened here, read by bwrap from the fds it is
 * handed. A file that cannot be opened any more (removed since it was looked
 * at) is handed over as /dev/null, so it appears empty, as bwrap's
 * `--ro-bind-try` would have left it out: the run does not fail on it.
 */
import { closeSync, constants, openSync } from 'node:fs';

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
