/**
 * Data carried in DNS names (DNS exfiltration and tunnelling): a name's
 * labels left of its registrable domain are read as encoded data. A name is
 * judged as the client wrote it (case kept where the caller has it: base64
 * and upper-case base32 need it) and before anything resolves it: the query
 * itself is the leak.
 *
 * Rules (each is data in `LABEL_RULES` / `CHAIN_RULES`, with its explanation):
 * - one label that is hex, base32 or base64url of readable text;
 * - one upper-case base32 label (16+ characters with digits: names are written
 *   lower-case, an upper-case run of A-Z2-7 is encoded bytes);
 * - one mixed-case random label of 20+ characters (base64 of bytes);
 * - one random label of 40+ characters (longer than the ids clouds put in
 *   names: 32-character Lambda URL ids, 36-character UUIDs);
 * - three or more consecutive hex labels with digits (a dotted hex chain);
 * - three or more consecutive labels of one length (6+), most not words
 *   (one value cut into equal chunks);
 * - three or more consecutive labels of letters and digits, none a word,
 *   24+ characters in all (one random value cut into labels of any length);
 * - eight or more labels below the registrable domain (outside `.arpa`).
 * Provider tokens in the labels joined are found by the caller (structured.ts).
 */
import { charsPerToken } from './bpe.js';
import { printableRatio } from './decode.js';
import { judgeByTokens } from './randomness.js';

export type DnsFindingKind = 'hex-text' | 'base32-text' | 'base32' | 'base64-text' | 'base64-random' | 'long-random' | 'hex-chain' | 'chunked' | 'random-chain' | 'deep';

export interface DnsFinding {
  readonly kind: DnsFindingKind;
  /** The labels concerned, as written (dot-joined for chains). */
  readonly labels: string;
  readonly explain: string;
}

/** Second-level labels under a two-letter country code that are part of the public suffix (`co.uk`, `com.au`). */
const CC_SECOND = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'ne', 'or', 'go', 'gv', 'mil', 'ltd', 'plc', 'nic', 'gob']);

/** The labels below the registrable domain (the part a name's owner may choose freely, and an exfiltrator fills). */
export function subdomainLabels(hostname: string): string[] {
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (name === '' || name.startsWith('[') || /^[0-9.]+$/.test(name) || name.includes(':')) return [];
  const labels = name.split('.');
  const tld = labels[labels.length - 1] ?? '';
  const second = (labels[labels.length - 2] ?? '').toLowerCase();
  const keep = tld.length === 2 && CC_SECOND.has(second) ? 3 : 2;
  return labels.slice(0, Math.max(0, labels.length - keep));
}

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32Decode(s: string): string {
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const c of s.toLowerCase()) {
    const v = B32.indexOf(c);
    if (v < 0) return '';
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((acc >> bits) & 0xff);
    }
  }
  return out;
}

/** Readable text: printable throughout, with a run of letters. */
function isText(s: string): boolean {
  return s.length >= 6 && printableRatio(s) === 1 && /[A-Za-z]{3}/.test(s);
}

function digits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

interface LabelRule {
  readonly kind: DnsFindingKind;
  readonly explain: string;
  readonly test: (label: string) => boolean;
}

const LABEL_RULES: readonly LabelRule[] = [
  {
    kind: 'hex-text', explain: 'A hostname label that is hex-encoded text: data smuggled out through DNS.',
    test: (l) => l.length >= 12 && l.length % 2 === 0 && /^[0-9a-f]+$/i.test(l) && isText(Buffer.from(l, 'hex').toString('latin1')),
  },
  {
    kind: 'base32-text', explain: 'A hostname label that is base32 of text: data smuggled out through DNS.',
    test: (l) => l.length >= 16 && /^[a-z2-7]+$/i.test(l) && isText(base32Decode(l)),
  },
  {
    kind: 'base32', explain: 'An upper-case base32 hostname label (A-Z and 2-7 with digits, 16+ characters): encoded bytes in a DNS name, which is written in lower case.',
    test: (l) => l.length >= 16 && /^[A-Z2-7]+$/.test(l) && digits(l) >= 2 && /[A-Z]{2}/.test(l),
  },
  {
    kind: 'base64-text', explain: 'A mixed-case hostname label that is base64url of text: data smuggled out through DNS.',
    test: (l) => l.length >= 16 && /^[A-Za-z0-9_-]+$/.test(l) && /[A-Z]/.test(l) && /[a-z]/.test(l) && isText(Buffer.from(l, 'base64url').toString('latin1')),
  },
  {
    kind: 'base64-random', explain: 'A long mixed-case random hostname label: base64 of bytes in a DNS name.',
    test: (l) => l.length >= 20 && /^[A-Za-z0-9_-]+$/.test(l) && /[A-Z].*[A-Z]/.test(l) && /[a-z].*[a-z]/.test(l) && digits(l) >= 1 && judgeByTokens(l).strong,
  },
  {
    kind: 'long-random', explain: 'A random hostname label of 40+ characters: longer than the ids clouds put in names, data in a DNS name.',
    // The hyphen-separated parts that are words or names do not count: a load balancer's `k8s-default-myingres-0a1b2c3d4e-1234567890`
    // is a name with two short ids in it, not 40 random characters.
    test: (l) => {
      if (l.length < 40 || !/^[A-Za-z0-9-]+$/.test(l) || !/[a-z]/i.test(l)) return false;
      const rest = l.includes('-') ? l.split('-').filter((part) => part === '' || notWord(part)).join('') : l;
      return rest.length >= 40 && digits(rest) >= 2 && judgeByTokens(rest).random;
    },
  },
];

/** A label that is not a word or a name (characters per BPE token below 4: `yyyyzzzz`, `x7f2`; `accounts`, `static` are one token). */
function notWord(label: string): boolean {
  return charsPerToken(label.toLowerCase()) < 4;
}

/** The longest runs of consecutive labels for which `fits` holds, at least `min` long. */
function runs(labels: readonly string[], min: number, fits: (l: string, prev: string | undefined) => boolean): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  for (const l of labels) {
    if (fits(l, cur[cur.length - 1])) cur.push(l);
    else {
      if (cur.length >= min) out.push(cur);
      cur = fits(l, undefined) ? [l] : [];
    }
  }
  if (cur.length >= min) out.push(cur);
  return out;
}

const HEX_CHAIN_MIN_LABELS = 3;
const HEX_CHAIN_MIN_CHARS = 20;
const CHUNK_MIN_LABELS = 3;
const CHUNK_MIN_LENGTH = 6;
const CHUNK_MIN_CHARS = 24;
const DEEP_LABELS = 8;

/** What the name's labels carry. Empty for IP literals and for names without a subdomain. */
export function hostnameFindings(hostname: string): DnsFinding[] {
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  const labels = subdomainLabels(name);
  if (labels.length === 0) return [];
  const out: DnsFinding[] = [];
  for (const label of labels) {
    const rule = LABEL_RULES.find((r) => r.test(label));
    if (rule !== undefined) out.push({ kind: rule.kind, labels: label, explain: rule.explain });
  }
  for (const chain of runs(labels, HEX_CHAIN_MIN_LABELS, (l) => l.length >= 4 && /^[0-9a-f]+$/i.test(l) && digits(l) >= 1)) {
    if (chain.join('').length >= HEX_CHAIN_MIN_CHARS) out.push({ kind: 'hex-chain', labels: chain.join('.'), explain: `${chain.length} consecutive hex labels: one value cut into DNS labels (a dotted hex chain).` });
  }
  for (const chain of runs(labels, CHUNK_MIN_LABELS, (l, prev) => l.length >= CHUNK_MIN_LENGTH && (prev === undefined || prev.length === l.length))) {
    const odd = chain.filter(notWord).length;
    if (chain.join('').length >= CHUNK_MIN_CHARS && odd * 2 > chain.length) out.push({ kind: 'chunked', labels: chain.join('.'), explain: `${chain.length} consecutive labels of ${chain[0]?.length ?? 0} characters, most not words: one value cut into equal DNS labels.` });
  }
  for (const chain of runs(labels, CHUNK_MIN_LABELS, (l) => l.length >= 4 && /^[a-z0-9-]+$/i.test(l) && /[a-z]/i.test(l) && digits(l) >= 1 && notWord(l))) {
    const already = out.some((f) => (f.kind === 'hex-chain' || f.kind === 'chunked') && f.labels.includes(chain.join('.')));
    if (!already && chain.join('').replace(/-/g, '').length >= CHUNK_MIN_CHARS) out.push({ kind: 'random-chain', labels: chain.join('.'), explain: `${chain.length} consecutive labels of letters and digits, none a word: one value cut into DNS labels.` });
  }
  if (labels.length >= DEEP_LABELS && !/\.arpa$/i.test(name)) out.push({ kind: 'deep', labels: labels.join('.'), explain: `${labels.length} labels below the registrable domain: a name that deep carries data (DNS tunnelling).` });
  return out;
}
