/**
 * The proxy's side of the body-scan worker (`scan-worker.ts`): large request
 * bodies are scanned on a second thread while the proxy's thread receives
 * the next batch (the body is still held whole and forwarded only once
 * every batch scanned clean: the worker changes where the scan runs, not
 * what is held). One worker per process, started on the first large body
 * and kept (unreferenced: it never keeps the process alive).
 *
 * Where the worker's code is depends on how cordon runs: the TypeScript
 * source under tsx (tests; the worker registers tsx itself), `tsc`'s output
 * beside this module (`dist/dlp/`: the proxy process of `cordon run`, see
 * `process-entry.ts`) or beside the bundles (`dist/bin/` -> `dist/dlp/`), or
 * `dlp-scan-worker.mjs` beside the egress bench's bundled children. Where
 * none is found, or the worker cannot start, the caller scans in its own
 * thread, as before. A worker that fails fails every scan under way in it (the proxy
 * refuses those requests: never forwarded unscanned) and is not used again.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FingerprintMatcher } from './fingerprint.js';
import type { BodyWorkerData, FromWorker, ToWorker, WireFinding } from './scan-worker.js';
import type { Confidence } from './types.js';

/** The worker's code, and what runs it: the file itself, or (TypeScript source) a bootstrap that registers tsx first. */
function workerEntry(): { readonly file: URL | string; readonly eval: boolean } | undefined {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Running from source: a worker does not inherit the loader hooks of `--import tsx`, so it registers them itself.
    try {
      const tsx = import.meta.resolve('tsx/esm/api');
      const src = new URL('./scan-worker.ts', here).href;
      return { file: `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(src)}); })`, eval: true };
    } catch {
      return undefined;
    }
  }
  for (const n of ['./scan-worker.js', '../dlp/scan-worker.js', './dlp-scan-worker.mjs']) {
    const u = new URL(n, here);
    try {
      if (u.protocol === 'file:' && existsSync(fileURLToPath(u))) return { file: u, eval: false };
    } catch {
      // not a usable path: try the next
    }
  }
  return undefined;
}

interface Waiter {
  readonly resolve: (f: readonly WireFinding[]) => void;
  readonly reject: (e: Error) => void;
}

export class BodyScanWorker {
  readonly #data: BodyWorkerData;
  #worker: Worker | undefined;
  #broken = false;
  #seq = 0;
  #ids = 0;
  readonly #waiting = new Map<number, Waiter>();

  constructor(options: { readonly minConfidence: Confidence; readonly overlap: number; readonly known?: FingerprintMatcher | undefined }) {
    this.#data = {
      cordonBodyWorker: true, minConfidence: options.minConfidence, overlap: options.overlap,
      ...(options.known === undefined ? {} : { known: options.known.toJSON() }),
    };
  }

  /** A new stream's id, or undefined when no worker can run here (scan in the caller's thread). */
  open(): number | undefined {
    if (this.#broken) return undefined;
    if (this.#worker === undefined) {
      // With one CPU the worker could only take turns with the proxy's thread: hand-overs for nothing.
      if (availableParallelism() < 2) {
        this.#broken = true;
        return undefined;
      }
      const entry = workerEntry();
      if (entry === undefined) {
        this.#broken = true;
        return undefined;
      }
      try {
        const w = new Worker(entry.file, { eval: entry.eval, workerData: this.#data });
        w.unref();
        w.on('message', (m: FromWorker) => this.#reply(m));
        w.on('error', (e) => this.#fail(`the DLP scan worker failed: ${e.message}`));
        w.on('exit', (code) => this.#fail(`the DLP scan worker exited (${code})`));
        this.#worker = w;
      } catch {
        this.#broken = true;
        return undefined;
      }
    }
    this.#ids += 1;
    return this.#ids;
  }

  /**
   * Shared memory the pieces are copied into for the worker, reused once its reply came (a fresh 1 MiB buffer per
   * batch costs more in page faults and collection than the copy; a transferred one, ~0.6 ms per message here).
   * Each is sent to the worker once, with the first push that uses it, and named by its index after that. The
   * pieces go at `overlap` bytes in: the worker puts the stream's carry in front and scans them in place.
   */
  readonly #mems: (SharedArrayBuffer | undefined)[] = [];
  /** Indexes of `#mems` not lent to a push under way. */
  readonly #free: number[] = [];
  /** The memory of each push under way, by sequence number. */
  readonly #lent = new Map<number, number>();

  /** Scans the next bytes of stream `id` (the pieces are copied once, into shared memory). */
  push(id: number, pieces: readonly Uint8Array[]): Promise<readonly WireFinding[]> {
    let size = 0;
    for (const p of pieces) size += p.length;
    const room = this.#data.overlap;
    const need = room + size;
    let index = -1;
    for (let i = this.#free.length - 1; i >= 0 && index < 0; i--) {
      const at = this.#free[i]!;
      const m = this.#mems[at];
      if (m !== undefined && m.byteLength >= need && m.byteLength <= 2 * need + 65536) {
        index = at;
        this.#free.splice(i, 1);
      }
    }
    let fresh: SharedArrayBuffer | undefined;
    if (index < 0) {
      fresh = new SharedArrayBuffer(need);
      // In place of a spare of the wrong size, else in the first unused slot.
      index = this.#free.shift() ?? this.#mems.indexOf(undefined);
      if (index < 0) index = this.#mems.length;
      this.#mems[index] = fresh;
    }
    const bytes = new Uint8Array(this.#mems[index]!, room, size);
    let at = 0;
    for (const p of pieces) {
      bytes.set(p, at);
      at += p.length;
    }
    const mem = index;
    return this.#send((seq) => {
      this.#lent.set(seq, mem);
      return { op: 'push', seq, id, mem, length: size, ...(fresh === undefined ? {} : { sab: fresh }) };
    });
  }

  /** The room a `pushAt` needs before its bytes (the stream's carry goes there). */
  get room(): number {
    return this.#data.overlap;
  }

  /**
   * Scans the next bytes of stream `id` where they are: `length` bytes at `at` in `mem`, which must not change
   * until the reply; the worker writes the `room` bytes before `at`. Nothing is copied on this thread.
   */
  pushAt(id: number, mem: SharedArrayBuffer, at: number, length: number): Promise<readonly WireFinding[]> {
    if (at < this.#data.overlap || at + length > mem.byteLength) return Promise.reject(new RangeError('pushAt: no room before the bytes, or past the memory'));
    return this.#send((seq) => ({ op: 'pushAt', seq, id, sab: mem, at, length }));
  }

  /** The stream's last findings (its held-back overlap); the worker forgets it. */
  end(id: number): Promise<readonly WireFinding[]> {
    return this.#send((seq) => ({ op: 'end', seq, id }));
  }

  /** Forgets a stream that will not end (its request was refused or cut). */
  drop(id: number): void {
    if (this.#worker !== undefined && !this.#broken) this.#worker.postMessage({ op: 'drop', id } satisfies ToWorker);
  }

  #send(message: (seq: number) => ToWorker): Promise<readonly WireFinding[]> {
    const w = this.#worker;
    if (w === undefined || this.#broken) return Promise.reject(new Error('the DLP scan worker is not running'));
    this.#seq += 1;
    const seq = this.#seq;
    return new Promise((resolve, reject) => {
      this.#waiting.set(seq, { resolve, reject });
      // Referenced while a reply is awaited, so a scan under way is never dropped by the process exiting under it.
      if (this.#waiting.size === 1) w.ref();
      w.postMessage(message(seq));
    });
  }

  #reply(m: FromWorker): void {
    const w = this.#waiting.get(m.seq);
    if (w === undefined) return;
    this.#waiting.delete(m.seq);
    if (this.#waiting.size === 0) this.#worker?.unref();
    const mem = this.#lent.get(m.seq);
    this.#lent.delete(m.seq);
    if (mem !== undefined) {
      if (this.#free.length < 4) this.#free.push(mem);
      else {
        // Enough spares: this one is forgotten on both sides.
        this.#mems[mem] = undefined;
        this.#worker?.postMessage({ op: 'forget', mem } satisfies ToWorker);
      }
    }
    if ('error' in m) w.reject(new Error(`the DLP scan worker failed: ${m.error}`));
    else w.resolve(m.findings);
  }

  #fail(reason: string): void {
    this.#broken = true;
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    this.#lent.clear();
    this.#mems.length = 0;
    this.#free.length = 0;
    for (const w of waiting) w.reject(new Error(reason));
  }
}
