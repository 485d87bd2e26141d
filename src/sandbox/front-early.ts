/**
 * The early sandbox spawned by bin/cordon's front (native/front/early.c)
 * before node started: the same guess as early.ts `speculate` makes, ~30 ms
 * sooner, so bubblewrap has built the sandbox by the time cordon has computed
 * the run's argv. The front hands us two fds (CORDON_EARLY_FDS="4,5"):
 *
 * - 4, the gate: the write end of the pipe bwrap reads its seccomp program
 *   from (`--seccomp 4`); the command cannot start before we write it;
 * - 5, the events: a record of what was spawned (the run's private directory,
 *   bwrap's pid, its path and argv, exactly as spawned), then, once bwrap has
 *   exited, "x<code>\n" or "s<signal number>\n".
 *
 * The runner adopts this sandbox only when its argv is identical to the one
 * computed afresh, as with early.ts's own (see runner.ts).
 *
 * Both fds are inherited without close-on-exec, so any process spawned from
 * here would inherit them: a sandboxed command holding the gate could start
 * the early sandbox's command with a program of its choosing. They are
 * reopened close-on-exec through /proc/self/fd and the inherited ones closed
 * before anything is spawned, on every path (run-loader.ts calls this first).
 */
import { EventEmitter } from 'node:events';
import { closeSync, constants, openSync, read, readSync, writeSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { abandon, type EarlySandbox, removeRunDirs, type Speculation, speculationFile } from './early.js';
import type { SandboxChild } from './raw-spawn.js';

const VAR = 'CORDON_EARLY_FDS';
const GATE_FD = 4;
const EVENTS_FD = 5;
/** The record is written into a pipe before anyone reads it (early.c MAX_RECORD). */
const MAX_RECORD = 60000;

/** bwrap spawned by the front: a child of the front, signalled directly (the front keeps it a zombie until we are done, so its pid cannot be reused). */
export class FrontChild extends EventEmitter implements SandboxChild {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly pid: number;
  #gate: number | null;

  constructor(pid: number, gate: number | null, events: number) {
    super();
    this.pid = pid;
    this.#gate = gate;
    this.#watch(events);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Writes `program` to the gate (one write: it is smaller than PIPE_BUF) and closes it. A second call does nothing. */
  gate(program: Buffer): void {
    const fd = this.#gate;
    if (fd === null) return;
    this.#gate = null;
    try {
      writeSync(fd, program);
    } catch {
      // bwrap already gone (EPIPE): the command cannot start without the program; its exit is reported as usual
    } finally {
      closeSync(fd);
    }
  }

  /** Reads bwrap's end from the events pipe (in the thread pool: it keeps the process alive until then, as a child would). */
  #watch(fd: number): void {
    const buf = Buffer.alloc(64);
    let got = 0;
    const step = (): void => {
      read(fd, buf, got, buf.length - got, null, (err, n) => {
        if (err === null && n > 0) {
          got += n;
          if (!buf.subarray(0, got).includes(0x0a) && got < buf.length) {
            step();
            return;
          }
        }
        closeSync(fd);
        this.#ended(buf.toString('latin1', 0, got));
      });
    };
    step();
  }

  #ended(line: string): void {
    const m = /^([xs])(\d{1,3})\n/.exec(line);
    if (m?.[1] === 'x') this.exitCode = Number(m[2]);
    else {
      // A signal, or no word at all (the front died: bwrap died with it).
      const n = m === null ? 9 : Number(m[2]);
      const names = process.getBuiltinModule('node:os').constants.signals as Record<string, number>;
      this.signalCode = (Object.keys(names).find((k) => names[k] === n) ?? 'SIGKILL') as NodeJS.Signals;
    }
    if (this.#gate !== null) this.gate(Buffer.alloc(0));
    this.emit('exit', this.exitCode, this.signalCode);
    this.emit('close', this.exitCode, this.signalCode);
  }
}

function reopen(fd: number, flags: number): number | undefined {
  try {
    return openSync(`/proc/self/fd/${fd}`, flags);
  } catch {
    return undefined;
  }
}

function readExactly(fd: number, n: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  let got = 0;
  while (got < n) {
    const r = readSync(fd, buf, got, n - got, null); // EAGAIN (throws): less than the front wrote
    if (r === 0) throw new Error('the front closed its events pipe');
    got += r;
  }
  return buf;
}

/**
 * The early sandbox the front spawned for this run, when it spawned one (null
 * otherwise, or when it cannot be taken over: its command then never starts).
 * Always closes the inherited fds.
 */
export function takeFrontEarly(env: NodeJS.ProcessEnv = process.env): EarlySandbox | null {
  const raw = env[VAR];
  if (raw === undefined) return null;
  delete env[VAR];
  if (raw !== `${GATE_FD},${EVENTS_FD}`) return null;
  const gate = reopen(GATE_FD, constants.O_WRONLY | constants.O_NONBLOCK);
  // The record is read without blocking: the front wrote all of it before node started, so a short one is refused, not
  // waited for. bwrap's end is watched on a read-write open of the same pipe, which never blocks on opening; no end of
  // file can come then, but none is needed: the front writes bwrap's end, and if the front dies, so does this process
  // (PR_SET_PDEATHSIG).
  const recordFd = reopen(EVENTS_FD, constants.O_RDONLY | constants.O_NONBLOCK);
  const events = reopen(EVENTS_FD, constants.O_RDWR);
  for (const fd of [GATE_FD, EVENTS_FD]) {
    try {
      closeSync(fd);
    } catch {
      // not open
    }
  }
  let record: Buffer | undefined;
  try {
    if (recordFd !== undefined) {
      const len = readExactly(recordFd, 4).readUInt32LE(0);
      if (len <= MAX_RECORD) record = readExactly(recordFd, len);
    }
  } catch {
    record = undefined;
  } finally {
    if (recordFd !== undefined) closeSync(recordFd);
  }
  if (events === undefined || record === undefined) {
    // Without the events we cannot know when bwrap ends, without the record what it is; closing the gate keeps its command from ever starting.
    if (gate !== undefined) closeSync(gate);
    if (events !== undefined) closeSync(events);
    return null;
  }
  // Paths that are not UTF-8 cannot be compared with the fresh argv exactly: such a sandbox is not used.
  const fields = isUtf8(record) ? record.toString('utf8').split('\u0000') : [];
  const [base = '', pidText = '', bwrap = '', ...args] = fields;
  const pid = Number(pidText);
  // The last field is the empty string after the final NUL.
  const wellFormed = fields.length >= 5 && args.pop() === '' && base.startsWith('/') && bwrap.startsWith('/') && Number.isSafeInteger(pid) && pid > 1;
  if (!wellFormed) {
    if (gate !== undefined) closeSync(gate);
    closeSync(events);
    return null;
  }
  const dirs = { base, home: join(base, 'home'), tmp: join(base, 'tmp') };
  const child = new FrontChild(pid, gate ?? null, events);
  if (gate === undefined) {
    // bwrap has gone already (the gate has no reader): not a sandbox to use; its directory goes once it is reaped.
    child.once('exit', () => removeRunDirs(dirs));
    return null;
  }
  return { child, bwrap, args, dirs, statusFile: join(base, 'status.json') };
}

/**
 * The speculation of a `cordon run` started through the front: undefined when
 * the front spawned no early sandbox (the caller then speculates itself).
 * `argv` is what follows the script.
 */
export function frontSpeculation(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Speculation | null | undefined {
  if (env[VAR] === undefined) return undefined;
  const early = takeFrontEarly(env);
  try {
    if (argv[0] === 'run') return { file: speculationFile(process.cwd(), argv, env), early };
  } catch {
    // no working directory any more: the run reports that as usual
  }
  // Not a run this process serves with it: its command is killed before it starts, its directory removed.
  if (early !== null) void abandon(early, true);
  return null;
}
