/**
 * Known secrets as keyed fingerprints. The broker (which holds the real
 * values) builds a `KnownSecretSet` and exports a `FingerprintMatcher`: for
 * every encoded form of every secret (raw, base64 std/url at each byte
 * alignment, hex, percent, `\u00XX`, base32, UTF-16LE/BE), the HMAC-SHA256
 * (per-session key, truncated to 64 bits) of each 16-byte window, plus a keyed
 * 32-bit rolling hash used as a fast prefilter. The proxy holds only the
 * matcher: it finds any 16-byte slice of a secret's encoded forms in one
 * rolling pass, and cannot turn a fingerprint back into the value (a window of
 * a random credential has far more than 64 bits of entropy; a short or
 * guessable secret is as weak here as anywhere, so values under 16 characters
 * are refused).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createRollingPass, type RollingPass } from './rolling-wasm.js';

export const WINDOW = 16;

/** Inputs this long or longer take the WebAssembly rolling pass (`rolling-wasm.ts`); shorter ones (URLs, headers) the JavaScript loop. */
const WASM_MIN = 1024;

export interface KnownHit {
  readonly label: string;
  readonly encoding: string;
  readonly offset: number;
  readonly length: number;
}

export interface FingerprintMatcherData {
  readonly version: 1;
  readonly key: string;
  readonly base: number;
  readonly fingerprints: Readonly<Record<string, readonly [label: string, encoding: string]>>;
  readonly rolling: readonly number[];
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32.charAt((value >>> (bits - 5)) & 31);
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32.charAt((value << (5 - bits)) & 31);
  return out;
}

/** Encodings at a shifted alignment: drop the characters that depend on the filler before and the unknown bytes after. */
function aligned(value: Buffer, block: number, chars: number, enc: (b: Buffer) => string): string[] {
  const out: string[] = [];
  for (let a = 0; a < block; a++) {
    const full = enc(Buffer.concat([Buffer.alloc(a), value]));
    const head = a === 0 ? 0 : chars;
    const tailBytes = (a + value.length) % block;
    const usableChars = Math.floor((a + value.length) / block) * chars;
    const s = full.slice(head, tailBytes === 0 ? full.length : usableChars);
    if (s.length >= WINDOW) out.push(s);
  }
  return out;
}

/** Every encoded form of a value that traffic may carry, each as bytes. */
export function encodedForms(value: string): { encoding: string; bytes: Buffer }[] {
  const raw = Buffer.from(value, 'utf8');
  const forms: { encoding: string; bytes: Buffer }[] = [{ encoding: 'raw', bytes: raw }];
  const add = (encoding: string, s: string): void => {
    forms.push({ encoding, bytes: Buffer.from(s, 'latin1') });
  };
  for (const s of aligned(raw, 3, 4, (b) => b.toString('base64').replace(/=+$/, ''))) add('base64', s);
  for (const s of aligned(raw, 3, 4, (b) => b.toString('base64url'))) add('base64url', s);
  for (const s of aligned(raw, 5, 8, base32)) add('base32', s);
  const hex = raw.toString('hex');
  add('hex', hex);
  add('hex', hex.toUpperCase());
  add('percent', hex.replace(/(..)/g, '%$1'));
  add('percent', hex.toUpperCase().replace(/(..)/g, '%$1'));
  add('unicode-escape', [...value].map((c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`).join(''));
  forms.push({ encoding: 'utf16le', bytes: Buffer.from(value, 'utf16le') });
  const be = Buffer.from(value, 'utf16le');
  be.swap16();
  forms.push({ encoding: 'utf16be', bytes: be });
  return forms;
}

function pow(base: number, n: number): number {
  let r = 1;
  for (let i = 0; i < n; i++) r = Math.imul(r, base);
  return r;
}

function rollingHash(bytes: Uint8Array, from: number, base: number): number {
  let h = 0;
  for (let i = from; i < from + WINDOW; i++) h = (Math.imul(h, base) + (bytes[i] ?? 0)) | 0;
  return h;
}

/** Held by the broker/supervisor: the real values. Never give this object to the proxy. */
export class KnownSecretSet {
  readonly #values: { label: string; value: string }[] = [];

  /** Adds a secret (at least 16 characters); `label` names it in findings (an env var name, `canary:lab`...), never the value. */
  add(label: string, value: string): this {
    if ([...value].length < WINDOW) throw new RangeError(`known secret '${label}' is shorter than ${WINDOW} characters; it cannot be fingerprinted safely`);
    this.#values.push({ label, value });
    return this;
  }

  get size(): number {
    return this.#values.length;
  }

  /** Fingerprints under a fresh per-session key (or the given one). */
  matcher(key: Buffer = randomBytes(32)): FingerprintMatcher {
    const base = (key.readUInt32LE(0) | 1) >>> 0;
    const fingerprints: Record<string, readonly [string, string]> = {};
    const rolling = new Set<number>();
    for (const { label, value } of this.#values) {
      for (const f of encodedForms(value)) {
        for (let i = 0; i + WINDOW <= f.bytes.length; i++) {
          const mac = createHmac('sha256', key).update(f.bytes.subarray(i, i + WINDOW)).digest('hex').slice(0, 16);
          fingerprints[mac] = [label, f.encoding];
          rolling.add(rollingHash(f.bytes, i, base));
        }
      }
    }
    return new FingerprintMatcher({ version: 1, key: key.toString('hex'), base, fingerprints, rolling: [...rolling] });
  }
}

/** Held by the proxy and the gateway: fingerprints only. Serialise with `toJSON`, rebuild with `FingerprintMatcher.fromJSON`. */
export class FingerprintMatcher {
  readonly #key: Buffer;
  readonly #base: number;
  readonly #outPow: number;
  readonly #fingerprints: Map<string, readonly [string, string]>;
  readonly #rolling: Set<number>;
  readonly #bitmap: Uint8Array;
  readonly #data: FingerprintMatcherData;

  constructor(data: FingerprintMatcherData) {
    this.#data = data;
    this.#key = Buffer.from(data.key, 'hex');
    this.#base = data.base;
    this.#outPow = pow(data.base, WINDOW - 1);
    this.#fingerprints = new Map(Object.entries(data.fingerprints));
    this.#rolling = new Set(data.rolling);
    this.#bitmap = new Uint8Array(1 << 21);
    for (const h of this.#rolling) this.#bitmap[(h >>> 3) & 0x1fffff] = (this.#bitmap[(h >>> 3) & 0x1fffff] ?? 0) | (1 << (h & 7));
  }

  static fromJSON(data: FingerprintMatcherData): FingerprintMatcher {
    return new FingerprintMatcher(data);
  }

  toJSON(): FingerprintMatcherData {
    return this.#data;
  }

  get empty(): boolean {
    return this.#fingerprints.size === 0;
  }

  /** The WebAssembly rolling pass (built on the first input of `WASM_MIN` bytes or more; null: not available here). */
  #pass: RollingPass | null | undefined;

  /**
   * Every run of windows that matches a known secret's fingerprint, merged per secret and encoding.
   * `wasm: false` takes the JavaScript loop whatever the length (for tests: both give the same hits).
   */
  find(bytes: Uint8Array, options?: { readonly wasm?: boolean }): KnownHit[] {
    if (this.#fingerprints.size === 0 || bytes.length < WINDOW) return [];
    const hits: KnownHit[] = [];
    const base = this.#base;
    /** Window `i`'s hash is one of the secrets': its HMAC decides. */
    const check = (i: number): void => {
      const mac = createHmac('sha256', this.#key).update(bytes.subarray(i, i + WINDOW)).digest('hex').slice(0, 16);
      const fp = this.#fingerprints.get(mac);
      if (fp === undefined) return;
      const last = hits[hits.length - 1];
      if (last !== undefined && last.label === fp[0] && last.encoding === fp[1] && i <= last.offset + last.length) {
        hits[hits.length - 1] = { ...last, length: i + WINDOW - last.offset };
      } else {
        hits.push({ label: fp[0], encoding: fp[1], offset: i, length: WINDOW });
      }
    };
    const wasm = bytes.length >= WASM_MIN && options?.wasm !== false;
    if (wasm) this.#pass ??= createRollingPass(this.#bitmap, this.#rolling, base, this.#outPow) ?? null;
    if (wasm && this.#pass !== null && this.#pass !== undefined) {
      // Windows whose bitmap bit is set (rare: the bitmap holds 2^24 bits), then the exact hash, then the HMAC.
      const cands: number[] = [];
      this.#pass.candidates(bytes, bytes.length - WINDOW + 1, (from) => rollingHash(bytes, from, base), cands);
      for (const i of cands) if (this.#rolling.has(rollingHash(bytes, i, base))) check(i);
      return hits;
    }
    const outPow = this.#outPow;
    const bitmap = this.#bitmap;
    let h = rollingHash(bytes, 0, base);
    for (let i = 0; ; i++) {
      if (((bitmap[(h >>> 3) & 0x1fffff] ?? 0) & (1 << (h & 7))) !== 0 && this.#rolling.has(h)) check(i);
      if (i + WINDOW >= bytes.length) break;
      h = (Math.imul(h - Math.imul(bytes[i] ?? 0, outPow), base) + (bytes[i + WINDOW] ?? 0)) | 0;
    }
    return hits;
  }
}
