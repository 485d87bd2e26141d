/**
 * Shared memory a large request body is held in while the DLP scans it (`pumpRequestBody` in http-forward.ts).
 *
 * Node's HTTP server hands the body out as one fresh buffer per socket read (~64 KiB, outside the JavaScript heap).
 * Held until the whole body scanned clean, 50 MB of them started a mark-compact per upload (external memory
 * pressure) on the proxy's thread, and each batch was copied once more into shared memory for the DLP's worker.
 * Instead each read is copied once into a slab: `SLAB_ROOM` free bytes, then `SLAB_BYTES` of body. The reads die
 * young (a scavenge frees them), a full slab is one scan batch (from the body's second on), which the worker reads where it is (the room before
 * it takes the stream's carry), and the held body goes upstream from the slabs.
 *
 * Slabs are reused (a fresh 2 MiB of shared memory per batch costs page faults and counts as external memory again),
 * but only once every write of them upstream reported done: until then the kernel may still read them. A slab of a
 * refused or failed request is never given back (the collector frees it). At most `KEEP` free slabs are kept, and
 * none once the pool was idle for `IDLE_MS`.
 */

/** Free bytes before a slab's body bytes: the DLP worker puts the stream's carry (its 4 KiB overlap) there. */
export const SLAB_ROOM = 4096;

/** Body bytes per slab: one scan batch (4 MiB: half the hand-overs of 2 MiB, 10-25% more MB/s side by side). */
export const SLAB_BYTES = 4 * 1024 * 1024;

/** Free slabs kept for the next body (64 MiB). */
const KEEP = 16;

/** Free slabs are dropped after this long without a body taking or giving back one. */
const IDLE_MS = 5000;

export interface Slab {
  readonly mem: SharedArrayBuffer;
  /** The body part: `SLAB_BYTES` at `SLAB_ROOM`. */
  readonly body: Buffer;
  /** Body bytes written so far. */
  fill: number;
}

const free: Slab[] = [];
let idle: NodeJS.Timeout | undefined;

function touch(): void {
  if (idle !== undefined) idle.refresh();
  else {
    idle = setTimeout(() => {
      free.length = 0;
      idle = undefined;
    }, IDLE_MS);
    idle.unref();
  }
}

/** An empty slab. */
export function takeSlab(): Slab {
  touch();
  const s = free.pop();
  if (s !== undefined) {
    s.fill = 0;
    return s;
  }
  const mem = new SharedArrayBuffer(SLAB_ROOM + SLAB_BYTES);
  return { mem, body: Buffer.from(mem, SLAB_ROOM, SLAB_BYTES), fill: 0 };
}

/** Slabs nothing reads or writes any more (their writes upstream are done). */
export function giveSlabs(slabs: readonly Slab[]): void {
  touch();
  for (const s of slabs) if (free.length < KEEP && !free.includes(s)) free.push(s);
}

/** Free slabs now held (tests). */
export function freeSlabs(): number {
  return free.length;
}
