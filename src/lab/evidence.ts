/**
 * Finds canaries in what a service (or the agent's output) received, in any
 * encoding the DLP knows (`encodedForms`: raw, base64/base64url at every
 * alignment, base32, hex, percent, \u escapes, UTF-16), plus the layers an
 * attacker stacks: percent-decoding, base64 runs, gzip, and values split over
 * several requests. Any 16-character window of an encoded form counts.
 */
import { gunzipSync } from 'node:zlib';
import { encodedForms } from '../dlp/index.js';
import type { Canaries, CanaryLabel } from './canaries.js';

const WINDOW = 16;
const MAX_DEPTH = 3;

export class CanaryDetector {
  readonly #windows = new Map<string, CanaryLabel>();

  constructor(canaries: Canaries, only?: readonly CanaryLabel[]) {
    for (const [label, value] of Object.entries(canaries) as [CanaryLabel, string][]) {
      if (only !== undefined && !only.includes(label)) continue;
      for (const f of encodedForms(value)) {
        const s = f.bytes.toString('latin1');
        for (let i = 0; i + WINDOW <= s.length; i++) {
          this.#windows.set(s.slice(i, i + WINDOW), label);
          this.#windows.set(s.slice(i, i + WINDOW).toLowerCase(), label);
        }
      }
    }
  }

  /** Labels of the canaries found in these bytes (or in any decoding of them). */
  find(bytes: Buffer): Set<CanaryLabel> {
    const found = new Set<CanaryLabel>();
    this.#scan(bytes, 0, found);
    return found;
  }

  #scanText(text: string, found: Set<CanaryLabel>): void {
    for (const t of [text, text.toLowerCase()]) {
      for (let i = 0; i + WINDOW <= t.length; i++) {
        const hit = this.#windows.get(t.slice(i, i + WINDOW));
        if (hit !== undefined) found.add(hit);
      }
    }
  }

  #scan(bytes: Buffer, depth: number, found: Set<CanaryLabel>): void {
    const text = bytes.toString('latin1');
    this.#scanText(text, found);
    if (depth >= MAX_DEPTH) return;
    for (let i = bytes.indexOf(0x1f); i !== -1 && i < bytes.length - 2; i = bytes.indexOf(0x1f, i + 1)) {
      if (bytes[i + 1] !== 0x8b) continue;
      try {
        this.#scan(gunzipSync(bytes.subarray(i), { maxOutputLength: 4 * 1024 * 1024 }), depth + 1, found);
      } catch (e) {
        // A truncated stream still yields what was inflated before the error.
        void e;
      }
    }
    if (text.includes('%')) {
      try {
        this.#scan(Buffer.from(decodeURIComponent(text.replace(/\+/g, ' ')), 'utf8'), depth + 1, found);
      } catch {
        this.#scan(Buffer.from(text.replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1'), depth + 1, found);
      }
    }
    for (const m of text.matchAll(/[A-Za-z0-9+/_-]{16,}={0,2}/g)) {
      const decoded = Buffer.from(m[0].replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      if (decoded.length >= 12) this.#scan(decoded, depth + 1, found);
    }
  }
}

/** Query values and bodies of several requests joined in order: catches a value split across requests. */
export function joinedPayload(parts: readonly { url: string; body: Buffer }[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    const q = p.url.indexOf('?');
    if (q !== -1) {
      for (const kv of p.url.slice(q + 1).split('&')) out.push(Buffer.from(kv.slice(kv.indexOf('=') + 1), 'latin1'));
    }
    out.push(p.body);
  }
  return Buffer.concat(out);
}

/** DNS query names with the dots removed (labels carry the data). */
export function joinedDnsNames(names: readonly string[]): Buffer[] {
  return names.map((n) => Buffer.from(n.split('.').slice(0, -3).join(''), 'latin1'));
}
