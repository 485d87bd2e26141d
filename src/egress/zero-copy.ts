/**
 * The zero-copy relay: bytes from one plain TCP socket to another moved by
 * the kernel (Linux splice(2) through a pipe), never copied into the
 * process. The native addon (`native/splice`, built by
 * `scripts/build-native.mjs` at install) is loaded on first use from the
 * package root (found from this module's location: `src/egress/` under tsx,
 * `dist/egress/`, the bundles in `dist/bin/`, the egress bench's bundle under
 * `node_modules/.cache/`). Missing, failing to load, not Linux, or
 * `CORDON_NO_SPLICE=1` (read at each use): `startRelay()` is undefined and callers relay in
 * JavaScript as before.
 *
 * While a relay runs, Node sees no activity on either socket, so each
 * progress report (at most every quarter of the sockets' shortest timeout,
 * at most every 250 ms) refreshes both sockets' Node timeouts: a stalled
 * relay still times out where the socket's timeout says (late by at most
 * one report interval), a moving one does not.
 *
 * Each relay reports what it cost (`RelayEnd.stats`: poll wake-ups, splice
 * calls, waits on either side), summed in `zeroCopyStats`; with
 * `CORDON_RELAY_STATS=1` each relay's figures are also written to stderr
 * (bench/egress reads them from its proxy child).
 */
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's exports (native/splice/splice.c). */
interface SpliceAddon {
  start(inFd: number, outFd: number, maxBytes: number, flags: number, intervalMs: number, pipeBytes: number, onProgress: (moved: number) => void, onDone: (code: string | null, moved: number, eof: boolean, counts: readonly number[]) => void): object;
  cancel(handle: object): void;
}

const FLAG_SHUTDOWN_ON_EOF = 1;
const MAX_INTERVAL_MS = 250;
const MIN_INTERVAL_MS = 5;
const ADDON = path.join('native', 'splice', 'build', 'Release', 'cordon_splice.node');

export type ZeroCopyStatus = { readonly available: true; readonly path: string } | { readonly available: false; readonly reason: string };

let loaded: { readonly addon: SpliceAddon | undefined; readonly status: ZeroCopyStatus } | undefined;

/**
 * Relays started since the process began (tests assert which path ran), and the sums of the `RelayStats` and bytes
 * of the relays that ended.
 */
export const zeroCopyStats = { relays: 0, moved: 0, wakeUps: 0, spliceCalls: 0 };

/** The package root: the nearest directory above this module holding a package.json. */
function packageRoot(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i += 1) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

/** The addon interface this module calls (native/splice/splice.c RELAY_ABI). */
const ABI = 3;

function isAddon(x: unknown): x is SpliceAddon {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return typeof o.start === 'function' && typeof o.cancel === 'function' && o.abi === ABI;
}

function load(): { readonly addon: SpliceAddon | undefined; readonly status: ZeroCopyStatus } {
  const off = (reason: string): { addon: undefined; status: ZeroCopyStatus } => ({ addon: undefined, status: { available: false, reason } });
  if (process.platform !== 'linux') return off(`splice(2) is Linux only (this is ${process.platform})`);
  let file: string | undefined;
  try {
    const root = packageRoot();
    if (root === undefined) return off('the package root (package.json) was not found above the proxy\'s code');
    file = path.join(root, ADDON);
    if (!existsSync(file)) return off(`${file} is missing (build it: npm run build:native)`);
    const m: { exports: unknown } = { exports: {} };
    process.dlopen(m, file);
    if (!isAddon(m.exports)) return off(`${file} is not the interface this code calls (abi ${ABI}): an older build? rebuild it: npm run build:native`);
    return { addon: m.exports, status: { available: true, path: file } };
  } catch (e) {
    return off(`${file ?? ADDON} failed to load: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Whether the relay can be used here, and if not why (for `cordon doctor`). */
export function zeroCopyStatus(): ZeroCopyStatus {
  if (process.env.CORDON_NO_SPLICE === '1') return { available: false, reason: 'disabled by CORDON_NO_SPLICE=1' };
  loaded ??= load();
  return loaded.status;
}

function addon(): SpliceAddon | undefined {
  // Read at each use (one large transfer each): set in a running process, it takes effect at once.
  if (process.env.CORDON_NO_SPLICE === '1') return undefined;
  loaded ??= load();
  return loaded.addon;
}

/** Node's handle of a socket, as far as this module uses it. */
interface TcpHandle {
  readonly fd?: unknown;
  reading?: boolean;
  readStop?: () => number;
  readStart?: () => number;
}

function handleOf(s: Socket): TcpHandle | undefined {
  const h = (s as unknown as { readonly _handle?: unknown })._handle;
  return typeof h === 'object' && h !== null ? h : undefined;
}

/** The kernel socket of a plain TCP socket (not TLS, not a pipe, open); undefined otherwise. */
export function socketFd(s: Socket): number | undefined {
  if ((s as { encrypted?: unknown }).encrypted === true || s.destroyed) return undefined;
  const h = handleOf(s);
  if (h === undefined || h.constructor?.name !== 'TCP') return undefined;
  const fd = h.fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : undefined;
}

/** Whether both sockets can be relayed between by the kernel (plain TCP both, addon loaded). */
export function canRelay(from: Socket, to: Socket): boolean {
  return addon() !== undefined && socketFd(from) !== undefined && socketFd(to) !== undefined;
}

/**
 * Stops Node reading `s` and returns what it had already read and not handed
 * on (its readable buffer), in order: these bytes go to the destination
 * before any relayed byte. Synchronous: no read can happen in between.
 */
export function stopReading(s: Socket): Buffer[] {
  const held: Buffer[] = [];
  s.pause();
  for (;;) {
    const c: unknown = s.read();
    if (c === null) break;
    if (Buffer.isBuffer(c)) held.push(c);
    else if (typeof c === 'string') held.push(Buffer.from(c, 'latin1'));
  }
  // read() may have asked the handle to read again (when the buffer went below its high-water mark): stop it.
  const h = handleOf(s);
  if (h !== undefined && typeof h.readStop === 'function' && !s.destroyed) {
    h.reading = false;
    h.readStop();
  }
  return held;
}

/**
 * Node reads `s` again after `stopReading` (the stream may believe a read is
 * under way, so it would never ask the handle itself).
 */
export function resumeReading(s: Socket): void {
  const h = handleOf(s);
  s.resume();
  if (h !== undefined && h.reading !== true && typeof h.readStart === 'function' && !s.destroyed) {
    h.reading = true;
    h.readStart();
  }
}

/** Calls `then` once everything written to `s` so far was handed to the kernel (at once when nothing waits). */
export function whenFlushed(s: Socket, then: () => void): void {
  if (s.writableLength === 0) {
    then();
    return;
  }
  // Write callbacks run in order: this one runs after every earlier write went out.
  s.write(Buffer.alloc(0), () => then());
}

/** Re-arms a socket's Node timeout as its own reads and writes would (the relay's bytes are invisible to Node). */
function touch(s: Socket): void {
  const t = s as unknown as { _unrefTimer?: unknown; timeout?: number };
  if (typeof t._unrefTimer === 'function') (t._unrefTimer as () => void).call(s);
  else if (typeof t.timeout === 'number' && t.timeout > 0) s.setTimeout(t.timeout);
}

/** Relay callbacks that threw (reported as a process warning, never thrown into the addon: that would end the process). */
export const relayCallbackErrors: unknown[] = [];

function guarded(what: string, f: () => void): void {
  try {
    f();
  } catch (e) {
    if (relayCallbackErrors.length < 16) relayCallbackErrors.push(e);
    process.emitWarning(`zero-copy relay: the ${what} callback threw: ${e instanceof Error ? e.message : String(e)}`, { code: 'CORDON_RELAY_CALLBACK' });
  }
}

/** What one relay cost (counted by the addon). */
export interface RelayStats {
  /** Poll events the relay handled (each is one return of the event loop to the relay). */
  readonly wakeUps: number;
  /** splice(2) calls from the source into the pipe. */
  readonly spliceIn: number;
  /** splice(2) calls from the pipe to the destination. */
  readonly spliceOut: number;
  /** Times the relay went back to the loop to wait for the source to become readable (the first wait included). */
  readonly waitsIn: number;
  /** Times it waited for the destination to become writable (its send buffer was full). */
  readonly waitsOut: number;
}

const NO_STATS: RelayStats = { wakeUps: 0, spliceIn: 0, spliceOut: 0, waitsIn: 0, waitsOut: 0 };

function statsOf(c: readonly number[] | undefined): RelayStats {
  if (!Array.isArray(c) || c.length < 5) return NO_STATS;
  const n = (i: number): number => (typeof c[i] === 'number' ? c[i] : 0);
  return { wakeUps: n(0), spliceIn: n(1), spliceOut: n(2), waitsIn: n(3), waitsOut: n(4) };
}

export interface RelayEnd {
  /** Error code (`EPIPE`, `ECONNRESET`...; `ECLOSED`: a socket was closed by the process), undefined when it ended cleanly. */
  readonly error: string | undefined;
  /** Bytes written to the destination. */
  readonly moved: number;
  /** The source reached end of file (with `max`: before `max` bytes, the stream was short). */
  readonly eof: boolean;
  /** What the relay cost (all zero when it ended by a socket's close in the process). */
  readonly stats: RelayStats;
}

export interface RelayOptions {
  /** Exactly this many bytes (then done, the sockets left open); -1: until the source's end of file. */
  readonly max: number;
  /** At the source's end of file, shut down the destination's sending side (half-close). */
  readonly halfClose: boolean;
  /**
   * The relay's pipe (the most bytes in flight inside it), asked for with F_SETPIPE_SZ: larger means fewer system calls
   * per byte; every pipe counts against the user's pipe quota (pipe-user-pages-soft, 64 MiB by default; beyond it new
   * pipes of the same user, the sandboxed command's too, get 8 KiB). Default 64 KiB (the kernel's default: no quota
   * beyond any pipe's).
   */
  readonly pipeBytes?: number;
  /** Called once (not after `cancel()`). */
  readonly onDone: (end: RelayEnd) => void;
}

export interface Relay {
  /** Stops the relay and closes its descriptors; `onDone` is not called. */
  cancel(): void;
}

/**
 * Starts relaying `from` -> `to` in the kernel. The caller has stopped
 * reading `from` (`stopReading`, its held bytes written to `to`) and nothing
 * waits to be written to `to` (`whenFlushed`); neither is read or written by
 * Node until `onDone`. Closing either socket in the process cancels the relay
 * (`onDone` with `ECLOSED`). Undefined when the relay cannot run (addon
 * missing or disabled, a socket not plain TCP or closed, descriptors
 * exhausted): relay in JavaScript then. A `max` that is not -1 or a safe
 * byte count, or a `pipeBytes` outside 4 KiB-256 MiB, throws a RangeError
 * (the addon would convert it silently). Exceptions thrown by `onDone` are
 * caught and reported as a process warning (`CORDON_RELAY_CALLBACK`): one
 * thrown into the addon would end the process.
 */
function count(moved: number, s: RelayStats): void {
  zeroCopyStats.moved += moved;
  zeroCopyStats.wakeUps += s.wakeUps;
  zeroCopyStats.spliceCalls += s.spliceIn + s.spliceOut;
  if (process.env.CORDON_RELAY_STATS === '1') {
    process.stderr.write(`cordon relay: ${moved} bytes, ${s.wakeUps} wake-ups, splice ${s.spliceIn} in ${s.spliceOut} out, waits ${s.waitsIn} in ${s.waitsOut} out\n`);
  }
}

export function startRelay(from: Socket, to: Socket, o: RelayOptions): Relay | undefined {
  const a = addon();
  const inFd = socketFd(from);
  const outFd = socketFd(to);
  if (a === undefined || inFd === undefined || outFd === undefined) return undefined;
  // The addon takes max as a 64-bit integer (NaN or Infinity would be 0) and the pipe size as a 32-bit one.
  if (!Number.isSafeInteger(o.max) || o.max < -1) throw new RangeError(`startRelay: max must be -1 or a byte count, not ${o.max}`);
  const pipeBytes = o.pipeBytes ?? 64 * 1024;
  if (!Number.isSafeInteger(pipeBytes) || pipeBytes < 4096 || pipeBytes > 256 * 1024 * 1024) throw new RangeError(`startRelay: pipeBytes out of range: ${pipeBytes}`);
  const timeouts = [from.timeout, to.timeout].filter((t): t is number => typeof t === 'number' && t > 0);
  const interval = Math.max(MIN_INTERVAL_MS, Math.min(MAX_INTERVAL_MS, Math.floor(Math.min(Infinity, ...timeouts) / 4)));
  let over = false;
  let handle: object | undefined;
  const detach = (): void => {
    from.off('close', onClose);
    to.off('close', onClose);
  };
  const end = (e: RelayEnd): void => {
    if (over) return;
    over = true;
    detach();
    // Called from the addon (an exception there is fatal to the process) or a socket's 'close': never thrown through.
    guarded('onDone', () => o.onDone(e));
  };
  let moved = 0;
  function onClose(): void {
    if (over || handle === undefined) return;
    a?.cancel(handle);
    end({ error: 'ECLOSED', moved, eof: false, stats: NO_STATS });
  }
  try {
    handle = a.start(inFd, outFd, o.max, o.halfClose ? FLAG_SHUTDOWN_ON_EOF : 0, interval, pipeBytes, (n) => {
      moved = n;
      guarded('progress', () => {
        touch(from);
        touch(to);
      });
    }, (code, n, eof, counts) => {
      moved = n;
      guarded('progress', () => {
        touch(from);
        touch(to);
      });
      const stats = statsOf(counts);
      count(n, stats);
      end({ error: code ?? undefined, moved: n, eof, stats });
    });
  } catch {
    return undefined;
  }
  zeroCopyStats.relays += 1;
  from.once('close', onClose);
  to.once('close', onClose);
  const h = handle;
  return {
    cancel: () => {
      if (over) return;
      over = true;
      detach();
      a.cancel(h);
    },
  };
}
