/**
 * A bounded, incremental WebSocket frame reader (RFC 6455 section 5.2) and a
 * frame encoder. The reader keeps at most one frame's bytes; a frame larger
 * than `maxFrameBytes`, a reserved opcode, a fragmented or oversized control
 * frame, a 64-bit length with the top bit set, or a mask that does not match
 * the direction is a protocol error (the relay closes the connection).
 */

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface Frame {
  readonly fin: boolean;
  /** RSV1: the message is compressed (permessage-deflate), set on its first frame only. */
  readonly rsv1: boolean;
  readonly opcode: number;
  /** Unmasked payload. */
  readonly payload: Buffer;
  /** The frame exactly as received (to forward unchanged). */
  readonly raw: Buffer;
}

export type FrameStep =
  | { readonly kind: 'frame'; readonly frame: Frame }
  | { readonly kind: 'more' }
  | { readonly kind: 'error'; readonly code: 1002 | 1009; readonly reason: string };

export function isControl(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** Incremental reader for one direction: `masked` true for client-to-server frames (which must be masked). */
export class FrameReader {
  readonly #masked: boolean;
  readonly #max: number;
  #buf: Buffer = Buffer.alloc(0);
  /** RSV1 allowed (permessage-deflate negotiated). */
  readonly #deflate: boolean;

  constructor(o: { masked: boolean; maxFrameBytes: number; deflate: boolean }) {
    this.#masked = o.masked;
    this.#max = o.maxFrameBytes;
    this.#deflate = o.deflate;
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.#buf.length;
  }

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
  }

  /** The next complete frame, `more`, or a protocol error. */
  next(): FrameStep {
    const b = this.#buf;
    if (b.length < 2) return { kind: 'more' };
    const b0 = b[0] ?? 0;
    const b1 = b[1] ?? 0;
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    if ((b0 & 0x30) !== 0) return err(1002, 'reserved bits RSV2/RSV3 set');
    if (rsv1 && (!this.#deflate || isControl(opcode) || opcode === OPCODE.continuation)) return err(1002, 'RSV1 set without permessage-deflate on a first data frame');
    if (![0x0, 0x1, 0x2, 0x8, 0x9, 0xa].includes(opcode)) return err(1002, `reserved opcode ${opcode}`);
    if (masked !== this.#masked) return err(1002, this.#masked ? 'client frame not masked' : 'server frame masked');
    let len = b1 & 0x7f;
    let at = 2;
    if (isControl(opcode) && (!fin || len > 125)) return err(1002, 'control frame fragmented or longer than 125 bytes');
    if (len === 126) {
      if (b.length < 4) return { kind: 'more' };
      len = b.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (b.length < 10) return { kind: 'more' };
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) return err(1009, 'frame length out of range');
      len = Number(big);
      at = 10;
    }
    if (len > this.#max) return err(1009, `frame longer than ${this.#max} bytes`);
    const maskAt = at;
    if (masked) at += 4;
    if (b.length < at + len) return { kind: 'more' };
    const raw = b.subarray(0, at + len);
    let payload: Buffer = Buffer.from(b.subarray(at, at + len));
    if (masked) payload = unmask(payload, b.subarray(maskAt, maskAt + 4));
    this.#buf = b.length === at + len ? Buffer.alloc(0) : b.subarray(at + len);
    return { kind: 'frame', frame: { fin, rsv1, opcode, payload, raw: Buffer.from(raw) } };
  }
}

function err(code: 1002 | 1009, reason: string): FrameStep {
  return { kind: 'error', code, reason };
}

/** XORs `data` in place with the 4-byte mask and returns it. */
export function unmask(data: Buffer, mask: Buffer): Buffer {
  for (let i = 0; i < data.length; i++) data[i] = (data[i] ?? 0) ^ (mask[i & 3] ?? 0);
  return data;
}

/** Encodes one frame; `mask` (4 bytes) for client-to-server frames. */
export function encodeFrame(o: { fin?: boolean; rsv1?: boolean; opcode: number; payload: Buffer; mask?: Buffer }): Buffer {
  const len = o.payload.length;
  const headLen = 2 + (len < 126 ? 0 : len < 65536 ? 2 : 8) + (o.mask === undefined ? 0 : 4);
  const out = Buffer.alloc(headLen + len);
  out[0] = (o.fin === false ? 0 : 0x80) | (o.rsv1 === true ? 0x40 : 0) | o.opcode;
  let at = 2;
  if (len < 126) out[1] = len;
  else if (len < 65536) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
    at = 4;
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(len), 2);
    at = 10;
  }
  if (o.mask !== undefined) {
    out[1] = (out[1] ?? 0) | 0x80;
    o.mask.copy(out, at);
    at += 4;
    o.payload.copy(out, at);
    unmask(out.subarray(at), o.mask);
  } else {
    o.payload.copy(out, at);
  }
  return out;
}

/** A close frame with a status code and a short reason (server role: unmasked). */
export function closeFrame(code: number, reason: string, mask?: Buffer): Buffer {
  const text = Buffer.from(reason.slice(0, 120), 'utf8').subarray(0, 123);
  const payload = Buffer.alloc(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return encodeFrame({ opcode: OPCODE.close, payload, ...(mask === undefined ? {} : { mask }) });
}
