/**
 * Financial and cryptocurrency identifiers, each confirmed by its format's
 * checksum (so random text does not match):
 * - Base58Check (double-SHA-256, 4 bytes): Bitcoin P2PKH/P2SH addresses
 *   (version 0x00/0x05, testnet 0x6f/0xc4), WIF private keys (0x80/0xef, 32
 *   bytes, optionally compressed), BIP-32 extended keys (xprv/tprv secret,
 *   xpub/tpub public);
 * - Bech32/Bech32m (BIP-173/350 polymod): SegWit addresses `bc1`/`tb1`/`bcrt1`;
 * - IBAN (ISO 13616): per-country length and mod-97 = 1;
 * - BIP-39 mnemonic seed phrases: 12, 15, 18, 21 or 24 words of the English
 *   list in a row whose checksum (the first n/3 bits of the SHA-256 of the
 *   entropy) holds: the wallet itself (high);
 * - Ethereum addresses in EIP-55 mixed case (Keccak-256 of the address sets
 *   each letter's case); all-lower or all-upper ones carry no checksum and
 *   are not taken (40 hex characters are as often a hash).
 * A private key is a secret (high); an address or an IBAN is a financial
 * identifier (medium, which the proxy's default threshold blocks: leaving
 * the machine in a URL or a body to an unknown host is what it is for).
 * Run on short texts (URLs, headers, structured fields), not on raw bodies.
 */
import { createHash } from 'node:crypto';
import { BIP39_ENGLISH } from './bip39-english.js';
import { eip55Valid } from './keccak.js';
import type { Confidence } from './types.js';

export interface FinancialId {
  readonly detector: string;
  readonly provider: string;
  readonly confidence: Confidence;
  readonly index: number;
  readonly length: number;
  readonly explain: string;
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const B58_VALUE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < B58.length; i++) t[B58.charCodeAt(i)] = i;
  return t;
})();

/** The payload of a Base58Check string (version byte(s) and data, checksum removed), or undefined if it does not check. */
export function base58CheckDecode(s: string): Buffer | undefined {
  let n = 0n;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B58_VALUE[c]! : -1;
    if (v < 0) return undefined;
    n = n * 58n + BigInt(v);
  }
  let hex = n === 0n ? '' : n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let zeros = 0;
  while (zeros < s.length && s.charCodeAt(zeros) === 49) zeros++;
  const bytes = Buffer.concat([Buffer.alloc(zeros), Buffer.from(hex, 'hex')]);
  if (bytes.length < 5) return undefined;
  const payload = bytes.subarray(0, bytes.length - 4);
  const sum = createHash('sha256').update(createHash('sha256').update(payload).digest()).digest();
  return sum.subarray(0, 4).equals(bytes.subarray(bytes.length - 4)) ? payload : undefined;
}

const BECH32_CHARS = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32_CONST = 1;
const BECH32M_CONST = 0x2bc830a3;

function polymod(values: readonly number[]): number {
  const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) if (((top >>> i) & 1) === 1) chk = (chk ^ gen[i]!) >>> 0;
  }
  return chk;
}

/** `bech32`, `bech32m`, or undefined: a string of one case whose checksum holds (BIP-173, BIP-350). */
export function bech32Kind(s: string): 'bech32' | 'bech32m' | undefined {
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) return undefined;
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || lower.length - sep - 1 < 6 || lower.length > 90) return undefined;
  const hrp = lower.slice(0, sep);
  const data: number[] = [];
  for (const c of lower.slice(sep + 1)) {
    const v = BECH32_CHARS.indexOf(c);
    if (v < 0) return undefined;
    data.push(v);
  }
  const expanded: number[] = [];
  for (const c of hrp) expanded.push(c.charCodeAt(0) >> 5);
  expanded.push(0);
  for (const c of hrp) expanded.push(c.charCodeAt(0) & 31);
  const pm = polymod([...expanded, ...data]);
  return pm === BECH32_CONST ? 'bech32' : pm === BECH32M_CONST ? 'bech32m' : undefined;
}

/** IBAN lengths by country (ISO 13616 registry). */
const IBAN_LENGTH: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24,
  DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27,
  GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28,
  PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28,
  TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** An IBAN (spaces removed, upper case): its country's length and mod-97 of the rearranged number equal to 1. */
export function ibanValid(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(iban) || IBAN_LENGTH[iban.slice(0, 2)] !== iban.length) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const c of moved) {
    const code = c.charCodeAt(0);
    const v = code >= 65 ? code - 55 : code - 48;
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

/** 1 for ASCII letters and digits, 2 for those that are base58 too (not 0, O, I, l). */
const ALNUM: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789') t[c.charCodeAt(0)] = 1;
  for (const c of B58) t[c.charCodeAt(0)] = 2;
  return t;
})();

/**
 * Whole runs of letters and digits, 25 to 111 long, that are all base58 (addresses 25-35, WIF 51-52, extended keys
 * 111): what `/(?<![A-Za-z0-9])[1-9A-HJ-NP-Za-km-z]{25,111}(?![A-Za-z0-9])/g` finds, in one pass over the characters.
 */
function base58Runs(text: string): [number, number][] {
  const out: [number, number][] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 128 || ALNUM[c] === 0) {
      i++;
      continue;
    }
    let j = i;
    let b58 = true;
    for (; j < n; j++) {
      const d = text.charCodeAt(j);
      const k = d < 128 ? ALNUM[d]! : 0;
      if (k === 0) break;
      if (k === 1) b58 = false;
    }
    if (b58 && j - i >= 25 && j - i <= 111) out.push([i, j]);
    i = j;
  }
  return out;
}
/** SegWit addresses are 42 characters and more. */
const BECH32_RUN = /(?<![A-Za-z0-9])(?:bc|tb|bcrt|BC|TB|BCRT)1[02-9ac-hj-np-zAC-HJ-NP-Z]{39,87}(?![A-Za-z0-9])/g;
const IBAN_RUN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])/g;
/** Cheap tests before the regexes: a text with none of these cannot hold an identifier. */
const ETH_RUN = /(?<![A-Za-z0-9])0x[0-9a-fA-F]{40}(?![0-9A-Za-z])/g;
/** Twelve lower-case words of 3 to 8 letters, separated by 1 to 4 spaces, commas or line breaks: a necessary condition for `wordRuns` (`quick-reject.ts` knows this shape too). */
const MAYBE_WORDS = /(?:[a-z]{3,8}[ \t\r\n,]{1,4}){11}[a-z]{3}/;
const MAYBE = /0x[0-9a-fA-F]{40}|[13][1-9A-HJ-NP-Za-km-z]{24}|[5KLc9][1-9A-HJ-NP-Za-km-z]{50}|[xt]p(?:rv|ub)|bc1|tb1|bcrt1|BC1|TB1|[A-Z]{2}\d{2}/;

/** What a Base58Check payload is, by its version. */
function base58Kind(payload: Buffer): Omit<FinancialId, 'index' | 'length'> | undefined {
  const v = payload[0];
  if (payload.length === 21 && (v === 0x00 || v === 0x05 || v === 0x6f || v === 0xc4)) {
    return { detector: 'bitcoin-address', provider: 'Bitcoin', confidence: 'medium', explain: `A Bitcoin ${v === 0x00 || v === 0x6f ? 'P2PKH' : 'P2SH'} address (Base58Check checksum valid): a financial identifier.` };
  }
  if ((v === 0x80 || v === 0xef) && (payload.length === 33 || (payload.length === 34 && payload[33] === 0x01))) {
    return { detector: 'bitcoin-wif-private-key', provider: 'Bitcoin', confidence: 'high', explain: 'A Bitcoin private key in Wallet Import Format (Base58Check checksum valid): whoever holds it owns the funds.' };
  }
  if (payload.length === 78) {
    const version = payload.readUInt32BE(0);
    if (version === 0x0488ade4 || version === 0x04358394) return { detector: 'bip32-extended-private-key', provider: 'Bitcoin', confidence: 'high', explain: 'A BIP-32 extended private key (xprv/tprv, Base58Check checksum valid): every key of the wallet derives from it.' };
    if (version === 0x0488b21e || version === 0x043587cf) return { detector: 'bip32-extended-public-key', provider: 'Bitcoin', confidence: 'medium', explain: 'A BIP-32 extended public key (xpub/tpub, checksum valid): every address of the wallet derives from it.' };
  }
  return undefined;
}

const BIP39_INDEX: ReadonlyMap<string, number> = new Map(BIP39_ENGLISH.map((w, i) => [w, i]));
const MNEMONIC_LENGTHS = [24, 21, 18, 15, 12] as const;

/** Whether `indexes` (11 bits each, 12-24 of them, a multiple of 3) carry a valid BIP-39 checksum. */
export function bip39ChecksumOk(indexes: readonly number[]): boolean {
  const n = indexes.length;
  if (n < 12 || n > 24 || n % 3 !== 0) return false;
  let bits = 0n;
  for (const i of indexes) bits = (bits << 11n) | BigInt(i);
  const csBits = BigInt(n / 3);
  const entropyBytes = (n * 11 - n / 3) / 8;
  const entropy = Buffer.from((bits >> csBits).toString(16).padStart(entropyBytes * 2, '0'), 'hex');
  const hash = createHash('sha256').update(entropy).digest();
  return BigInt(hash[0]!) >> (8n - csBits) === (bits & ((1n << csBits) - 1n));
}


interface Word {
  /** Index in the BIP-39 list, -1 if not in it. */
  readonly w: number;
  readonly index: number;
  readonly end: number;
}

/** Runs of 12 or more lower-case words of 3 to 8 letters, separated by 1 to 4 spaces, commas or line breaks. */
const WORD_RUN = /(?<![A-Za-z])(?:[a-z]{3,8}[ \t\r\n,]{1,4}){11,64}[a-z]{3,8}(?![A-Za-z])/g;

/** The words of each run, with their place in `text` and their index in the BIP-39 list. */
function wordRuns(text: string): Word[][] {
  const out: Word[][] = [];
  for (const m of text.matchAll(WORD_RUN)) {
    const run: Word[] = [];
    for (const w of m[0].matchAll(/[a-z]{3,8}/g)) run.push({ w: BIP39_INDEX.get(w[0]) ?? -1, index: m.index + w.index, end: m.index + w.index + w[0].length });
    out.push(run);
  }
  return out;
}

/** Word positions tried as the start of a mnemonic, per text (each tries up to five checksums): bounds a text made of list words. */
const MNEMONIC_STARTS = 4096;

/** Seed phrases in a run of words: the longest valid mnemonic at each start, then past it. `budget.starts` is shared by a text's runs. */
function mnemonics(words: readonly Word[], out: FinancialId[], budget: { starts: number }): void {
  for (let i = 0; i + 12 <= words.length;) {
    if (budget.starts-- <= 0) return;
    if (words[i]!.w < 0) {
      i++;
      continue;
    }
    const n = MNEMONIC_LENGTHS.find((len) => i + len <= words.length && words.slice(i, i + len).every((x) => x.w >= 0) && bip39ChecksumOk(words.slice(i, i + len).map((x) => x.w)));
    if (n === undefined) {
      i++;
      continue;
    }
    const first = words[i]!;
    const last = words[i + n - 1]!;
    out.push({ detector: 'bip39-mnemonic', provider: 'Bitcoin', confidence: 'high', index: first.index, length: last.end - first.index, explain: `A BIP-39 mnemonic seed phrase (${n} words, checksum valid): whoever holds it owns the wallet.` });
    i += n;
  }
}

/** Checksum-valid financial identifiers in `text` (a URL, a header value, a field). */
export function financialIds(text: string): FinancialId[] {
  const out: FinancialId[] = [];
  if (MAYBE_WORDS.test(text)) {
    const budget = { starts: MNEMONIC_STARTS };
    for (const run of wordRuns(text)) {
      if (budget.starts <= 0) break;
      mnemonics(run, out, budget);
    }
  }
  if (!MAYBE.test(text)) return out;
  for (const [start, end] of base58Runs(text)) {
    const payload = base58CheckDecode(text.slice(start, end));
    const kind = payload === undefined ? undefined : base58Kind(payload);
    if (kind !== undefined) out.push({ ...kind, index: start, length: end - start });
  }
  for (const m of text.matchAll(BECH32_RUN)) {
    const kind = bech32Kind(m[0]);
    if (kind !== undefined) out.push({ detector: 'bitcoin-address', provider: 'Bitcoin', confidence: 'medium', index: m.index, length: m[0].length, explain: `A Bitcoin SegWit address (${kind} checksum valid): a financial identifier.` });
  }
  for (const m of text.matchAll(ETH_RUN)) {
    if (eip55Valid(m[0])) out.push({ detector: 'ethereum-address', provider: 'Ethereum', confidence: 'medium', index: m.index, length: m[0].length, explain: 'An Ethereum address (EIP-55 checksum valid): a financial identifier.' });
  }
  for (const m of text.matchAll(IBAN_RUN)) {
    if (ibanValid(m[0].replace(/ /g, ''))) out.push({ detector: 'iban', provider: 'banking', confidence: 'medium', index: m.index, length: m[0].length, explain: 'An International Bank Account Number (country length and mod-97 check valid): a financial identifier.' });
  }
  return out;
}
