/**
 * permessage-deflate (RFC 7692) for the client-to-server direction of a
 * relayed WebSocket: one raw-inflate stream per connection (context takeover
 * is the default; a fresh-context message inflates the same way), fed frame
 * by frame so each frame's plaintext can be scanned before the frame is
 * forwarded. Bounded: a message inflating past `maxMessageBytes`, or past
 * `maxRatio` times its compressed size once over 1 MiB, is an error and the
 * inflater is destroyed at once (no more output is produced).
 */
import { constants, createInflateRaw, type InflateRaw } from 'node:zlib';

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const RATIO_FLOOR = 1024 * 1024;

export interface InflateLimits {
  readonly maxMessageBytes: number;
  readonly maxRatio: number;
}

export class MessageInflater {
  readonly #z: InflateRaw;
  readonly #limits: InflateLimits;
  #out: Buffer[] = [];
  #outBytes = 0;
  #inBytes = 0;
  #failed: string | undefined;

  constructor(limits: InflateLimits) {
    this.#limits = limits;
    this.#z = createInflateRaw({ windowBits: 15 });
    this.#z.on('data', (c: Buffer) => {
      if (this.#failed !== undefined) return;
      this.#outBytes += c.length;
      if (this.#outBytes > this.#limits.maxMessageBytes) return this.#fail(`a compressed message inflates past ${this.#limits.maxMessageBytes} bytes`);
      if (this.#outBytes > RATIO_FLOOR && this.#outBytes > this.#inBytes * this.#limits.maxRatio) return this.#fail(`a compressed message inflates more than ${this.#limits.maxRatio} times its size`);
      this.#out.push(c);
    });
    this.#z.on('error', (e) => this.#fail(`permessage-deflate data is invalid (${e.message})`));
    // A message sent with a final block ends the stream: later messages could not be read, so fail closed.
    this.#z.on('end', () => this.#fail('a compressed message ended the deflate stream (final block); later messages cannot be inspected'));
  }

  #fail(why: string): void {
    this.#failed ??= why;
    this.#out = [];
    this.#z.destroy();
  }

  /** Inflates one frame's payload of the current message; `last` ends the message. Resolves to the plaintext or an error text. */
  push(data: Buffer, last: boolean): Promise<Buffer | string> {
    if (this.#failed !== undefined) return Promise.resolve(this.#failed);
    this.#inBytes += data.length;
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.#failed !== undefined) {
          resolve(this.#failed);
          return;
        }
        const out = this.#out.length === 1 ? (this.#out[0] ?? Buffer.alloc(0)) : Buffer.concat(this.#out);
        this.#out = [];
        if (last) {
          this.#outBytes = 0;
          this.#inBytes = 0;
        }
        resolve(out);
      };
      this.#z.once('close', done);
      this.#z.write(last ? Buffer.concat([data, TAIL]) : data);
      this.#z.flush(constants.Z_SYNC_FLUSH, () => {
        this.#z.off('close', done);
        done();
      });
    });
  }

  close(): void {
    this.#z.destroy();
  }
}
