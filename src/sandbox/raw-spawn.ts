/**
 * bubblewrap spawned through Node's process handle directly, without
 * node:child_process: loading that module (and with it node:net and the
 * stream machinery) and making a ChildProcess with a socket for the gate cost
 * the common `cordon run` ~5-8 ms before the sandbox could start. The handle
 * is the one child_process itself uses (`process.binding('process_wrap')`,
 * still on Node's allow-list); where it is missing, `spawnRaw` returns null
 * and the caller uses node:child_process.
 *
 * Only what the run entry point's early sandbox needs: inherited or given
 * file descriptors, an empty environment, an argv array, and the gate (a
 * socket whose single write is the seccomp program, see early.ts).
 */
import { EventEmitter } from 'node:events';
import { signalNumber } from '../host-dirs.js';

/** The part of a ChildProcess the runner uses; a ChildProcess is one too. */
export interface SandboxChild {
  readonly pid?: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: 'exit' | 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  once(event: 'exit' | 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  once(event: 'error', listener: (err: Error) => void): unknown;
}

interface ProcessHandle {
  spawn(options: object): number;
  kill(signal: number): number;
  close(): void;
  pid: number;
  onexit: ((exitCode: number, signalCode: string) => void) | null;
}
interface StreamHandle {
  writeBuffer(req: object, data: Buffer): number;
  close(): void;
}
interface WriteRequest {
  handle: StreamHandle;
  oncomplete: (status: number) => void;
  async: boolean;
}
interface Bindings {
  readonly Process: new () => ProcessHandle;
  readonly Pipe: new (type: number) => StreamHandle;
  readonly pipeSocket: number;
  readonly WriteWrap: new () => WriteRequest;
}

let bindings: Bindings | null | undefined;

function load(): Bindings | null {
  if (bindings !== undefined) return bindings;
  try {
    const binding = (process as unknown as { binding: (name: string) => Record<string, unknown> }).binding;
    const pw = binding('process_wrap') as { Process?: Bindings['Process'] };
    const pipe = binding('pipe_wrap') as { Pipe?: Bindings['Pipe']; constants?: { SOCKET?: number } };
    const sw = binding('stream_wrap') as { WriteWrap?: Bindings['WriteWrap'] };
    bindings = pw.Process !== undefined && pipe.Pipe !== undefined && typeof pipe.constants?.SOCKET === 'number' && sw.WriteWrap !== undefined
      ? { Process: pw.Process, Pipe: pipe.Pipe, pipeSocket: pipe.constants.SOCKET, WriteWrap: sw.WriteWrap }
      : null;
  } catch {
    bindings = null;
  }
  return bindings;
}

export class RawChild extends EventEmitter implements SandboxChild {
  readonly pid: number;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly #handle: ProcessHandle;
  #gate: StreamHandle | null;
  readonly #b: Bindings;

  constructor(handle: ProcessHandle, gate: StreamHandle, b: Bindings) {
    super();
    this.#handle = handle;
    this.#gate = gate;
    this.#b = b;
    this.pid = handle.pid;
    handle.onexit = (exitCode, signalCode) => {
      if (signalCode) this.signalCode = signalCode as NodeJS.Signals; // '' when it exited
      else this.exitCode = exitCode;
      handle.close();
      this.#closeGate();
      this.emit('exit', this.exitCode, this.signalCode);
      this.emit('close', this.exitCode, this.signalCode);
    };
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false;
    return this.#handle.kill(signalNumber(signal)) === 0;
  }

  /** Writes `program` to the gate (one write) and closes it. A second call does nothing. */
  gate(program: Buffer): void {
    const gate = this.#gate;
    if (gate === null) return;
    const req = new this.#b.WriteWrap();
    req.handle = gate;
    req.oncomplete = () => this.#closeGate();
    req.async = false;
    // An error (bwrap already gone: EPIPE) needs no handling: the command cannot start without the program.
    if (gate.writeBuffer(req, program) !== 0 || !req.async) this.#closeGate();
  }

  #closeGate(): void {
    const gate = this.#gate;
    this.#gate = null;
    gate?.close();
  }
}

/**
 * Spawns `file` with `args` (argv[0] included), an empty environment, fds 0-3
 * from `fds`, fd 4 the gate, and `more` (if any) from fd 6 on (fd 5 closed);
 * null when Node's process handle is not available here. Throws when the
 * spawn itself fails (ENOENT...).
 */
export function spawnRaw(file: string, args: readonly string[], fds: readonly [number, number, number, number], more: readonly number[] = [], detached = false): RawChild | null {
  const b = load();
  if (b === null) return null;
  const gate = new b.Pipe(b.pipeSocket);
  const handle = new b.Process();
  const err = handle.spawn({
    file,
    args: [...args],
    envPairs: [],
    detached,
    stdio: [
      ...fds.map((fd) => ({ type: 'fd', fd })),
      { type: 'pipe', handle: gate },
      ...(more.length > 0 ? [{ type: 'ignore' }, ...more.map((fd) => ({ type: 'fd', fd }))] : []),
    ],
  });
  if (err !== 0) {
    handle.close();
    gate.close();
    throw new Error(`spawn ${file}: ${err}`);
  }
  return new RawChild(handle, gate, b);
}
