/**
 * The supervisor's side of native/front (cordon-front): bin/cordon starts
 * `cordon run` through that small program when it was built, and it hands us
 * the write end of a pipe as fd CORDON_EXIT_FD. We report the exit status on
 * it once the process has done everything it does (every 'exit' listener has
 * run: the audit log flushed, the code cache saved) and has closed its
 * standard streams; the front then exits with that status while Node tears
 * the process down (3-5 ms nobody needs to wait for).
 *
 * The inherited fd is open without FD_CLOEXEC, so every process spawned from
 * here would inherit it, the sandbox included, and a sandboxed command could
 * then end the caller's wait with a status of its choosing. `takeExitFd` runs
 * before anything is spawned: it reopens the pipe through /proc/self/fd
 * (Node opens every file with O_CLOEXEC) and closes the inherited fd. Where
 * that fails the fd is closed all the same, and the front, seeing the pipe
 * close without a report, waits for this process to exit as before.
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';

const VAR = 'CORDON_EXIT_FD';

/** The pipe to report on (close-on-exec), or undefined when there is none or it could not be taken. */
export function takeExitFd(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[VAR];
  if (raw === undefined) return undefined;
  delete env[VAR];
  if (!/^[1-9][0-9]{0,5}$/.test(raw)) return undefined;
  const inherited = Number(raw);
  // 0-2 are the standard streams, never the front's pipe.
  if (inherited < 3) return undefined;
  try {
    if (!fstatSync(inherited).isFIFO()) return undefined;
  } catch {
    return undefined; // not open: nothing to take
  }
  let own: number | undefined;
  try {
    own = openSync(`/proc/self/fd/${inherited}`, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    own = undefined;
  }
  try {
    closeSync(inherited);
  } catch {
    // already closed
  }
  return own;
}

/**
 * Reports the exit status on `fd` after every 'exit' listener has run: wraps
 * `process.emit`, through which Node announces the exit both on
 * `process.exit()` and when the event loop has nothing left.
 */
export function reportExitOn(fd: number): void {
  let reported = false;
  type Emit = (this: NodeJS.Process, e: string | symbol, ...a: unknown[]) => boolean;
  const emit = Reflect.get(process, 'emit') as Emit;
  const wrapped = function (this: NodeJS.Process, event: string | symbol, ...args: unknown[]): boolean {
    const handled = emit.call(this, event, ...args);
    if (event === 'exit' && !reported) {
      reported = true;
      // Node exits with process.exitCode when a listener set it, else the code it announced.
      const code = Number(process.exitCode ?? args[0] ?? 0);
      report(fd, Number.isInteger(code) ? code & 0xff : 1);
    }
    return handled;
  };
  process.emit = wrapped as typeof process.emit;
}

function report(fd: number, status: number): void {
  // The caller may be reading our output to its end through a pipe or a socket: it ends here, not when the
  // process is gone. A terminal stays open (Node restores its settings as it exits), a file has no end to wait for.
  for (const s of [0, 1, 2]) {
    try {
      const st = fstatSync(s);
      if (st.isFIFO() || st.isSocket()) closeSync(s);
    } catch {
      // not open
    }
  }
  try {
    writeSync(fd, Buffer.of(status));
  } catch {
    // the front is gone, or the pipe is full (it is not: one byte): the front then waits for the process
  }
}
