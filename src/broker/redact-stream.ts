/**
 * Replaces a real value in a byte stream by its placeholder (same length, so
 * Content-Length stays right), across chunk boundaries: the last
 * (longest value - 1) bytes are held back until the next chunk or the end.
 * Used on upstream responses, so a server that echoes a credential back does
 * not hand the real value to the proxy or the agent. Only the raw form is
 * replaced (a compressed or re-encoded echo is not).
 */
export class ResponseRedactor {
  readonly #pairs: (readonly [Buffer, Buffer])[];
  readonly #keep: number;
  #tail: Buffer = Buffer.alloc(0);

  constructor(pairs: readonly (readonly [real: string, placeholder: string])[]) {
    this.#pairs = pairs
      .map(([r, p]) => [Buffer.from(r, 'utf8'), Buffer.from(p, 'utf8')] as const)
      .filter(([r, p]) => r.length === p.length && r.length > 0);
    this.#keep = Math.max(0, ...this.#pairs.map(([r]) => r.length - 1));
  }

  #replace(buf: Buffer): void {
    for (const [real, ph] of this.#pairs) {
      for (let at = buf.indexOf(real); at >= 0; at = buf.indexOf(real, at + real.length)) ph.copy(buf, at);
    }
  }

  push(chunk: Buffer): Buffer {
    if (this.#pairs.length === 0) return chunk;
    const buf = Buffer.concat([this.#tail, chunk]);
    this.#replace(buf);
    const cut = Math.max(0, buf.length - this.#keep);
    this.#tail = Buffer.from(buf.subarray(cut));
    return buf.subarray(0, cut);
  }

  end(): Buffer {
    const t = this.#tail;
    this.#tail = Buffer.alloc(0);
    return t;
  }
}

/**
 * The same replacement for an interactive stream (a WebSocket's server side):
 * only a tail that could begin a real value (a proper prefix of one) is held
 * back, so ordinary data is never delayed; the caller flushes a held tail
 * after a short quiet time (`flush`), after which a value completed by a
 * later read is no longer seen whole.
 */
export class StreamScrubber {
  readonly #pairs: (readonly [Buffer, Buffer])[];
  #tail: Buffer = Buffer.alloc(0);

  constructor(pairs: readonly (readonly [real: string, placeholder: string])[]) {
    this.#pairs = pairs
      .map(([r, p]) => [Buffer.from(r, 'utf8'), Buffer.from(p, 'utf8')] as const)
      .filter(([r, p]) => r.length === p.length && r.length > 0);
  }

  /** Bytes held back, waiting for the next read or a flush. */
  get pending(): number {
    return this.#tail.length;
  }

  push(chunk: Buffer): Buffer {
    if (this.#pairs.length === 0) return chunk;
    const buf = Buffer.concat([this.#tail, chunk]);
    for (const [real, ph] of this.#pairs) {
      for (let at = buf.indexOf(real); at >= 0; at = buf.indexOf(real, at + real.length)) ph.copy(buf, at);
    }
    let hold = 0;
    for (const [real] of this.#pairs) {
      for (let k = Math.min(real.length - 1, buf.length); k > hold; k--) {
        if (buf.subarray(buf.length - k).equals(real.subarray(0, k))) {
          hold = k;
          break;
        }
      }
    }
    this.#tail = Buffer.from(buf.subarray(buf.length - hold));
    return buf.subarray(0, buf.length - hold);
  }

  flush(): Buffer {
    const t = this.#tail;
    this.#tail = Buffer.alloc(0);
    return t;
  }
}
