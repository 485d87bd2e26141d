/**
 * Special-purpose addresses (RFC 6890 and the IANA registries) and cloud
 * metadata endpoints. The tables are plain data; they are compiled once at
 * module load into BigInt network/mask pairs, and classification is exact bit
 * arithmetic on the canonical address (no regex on addresses).
 */
import { CordonError } from '../errors.js';
import type { CanonicalHost } from '../policy/types.js';
import { canonicalizeHost, formatHost } from './hostname.js';
import { METADATA_ADDRESSES, METADATA_NAMES } from './metadata-endpoints.js';

/**
 * Where an IPv6 range carries an IPv4 address: `low32` = last 32 bits (IPv4-mapped,
 * IPv4-compatible, NAT64 /96), `nat64-local` = any RFC 6052 layout inside a /48,
 * `6to4` = bits 16-47, `teredo` = last 32 bits XOR 0xffffffff (the client).
 */
export type EmbedKind = 'low32' | 'nat64-local' | '6to4' | 'teredo';

export interface AddressRange {
  readonly cidr: string;
  readonly name: string;
  /** One line: why an agent has no business reaching it. */
  readonly reason: string;
  readonly embeds?: EmbedKind;
  /** When true the range is special only if its embedded IPv4 is (it is a pure translation of it). */
  readonly followsEmbedded?: boolean;
}

export const SPECIAL_RANGES: readonly AddressRange[] = [
  { cidr: '0.0.0.0/8', name: 'this-network', reason: '"This network"; 0.0.0.0 reaches the local host on many systems.' },
  { cidr: '10.0.0.0/8', name: 'private-10', reason: 'RFC 1918 private network.' },
  { cidr: '100.64.0.0/10', name: 'shared-cgnat', reason: 'RFC 6598 carrier-grade NAT space, often cloud-internal.' },
  { cidr: '127.0.0.0/8', name: 'loopback', reason: 'Loopback: services on the host itself.' },
  { cidr: '169.254.0.0/16', name: 'link-local', reason: 'IPv4 link-local, home of cloud metadata services.' },
  { cidr: '172.16.0.0/12', name: 'private-172', reason: 'RFC 1918 private network.' },
  { cidr: '192.0.0.0/24', name: 'ietf-protocol', reason: 'IETF protocol assignments, not a destination.' },
  { cidr: '192.0.2.0/24', name: 'test-net-1', reason: 'Documentation range (TEST-NET-1).' },
  { cidr: '192.88.99.0/24', name: '6to4-relay', reason: 'Deprecated 6to4 relay anycast.' },
  { cidr: '192.168.0.0/16', name: 'private-192', reason: 'RFC 1918 private network.' },
  { cidr: '198.18.0.0/15', name: 'benchmarking', reason: 'Benchmarking range, not a public destination.' },
  { cidr: '198.51.100.0/24', name: 'test-net-2', reason: 'Documentation range (TEST-NET-2).' },
  { cidr: '203.0.113.0/24', name: 'test-net-3', reason: 'Documentation range (TEST-NET-3).' },
  { cidr: '224.0.0.0/4', name: 'multicast', reason: 'IPv4 multicast, never a proxied destination.' },
  { cidr: '240.0.0.0/4', name: 'reserved', reason: 'Reserved for future use.' },
  { cidr: '255.255.255.255/32', name: 'broadcast', reason: 'Limited broadcast.' },
  { cidr: '::/128', name: 'unspecified', reason: 'Unspecified address; reaches the local host on many systems.' },
  { cidr: '::1/128', name: 'loopback-v6', reason: 'IPv6 loopback: services on the host itself.' },
  { cidr: '::/96', name: 'ipv4-compatible', reason: 'Deprecated IPv4-compatible IPv6; carries an IPv4 address.', embeds: 'low32' },
  {
    cidr: '::ffff:0:0/96',
    name: 'ipv4-mapped',
    reason: 'IPv4-mapped IPv6: the same destination as the embedded IPv4 address.',
    embeds: 'low32',
    followsEmbedded: true,
  },
  {
    cidr: '64:ff9b::/96',
    name: 'nat64',
    reason: 'NAT64 well-known prefix: the destination is the embedded IPv4 address.',
    embeds: 'low32',
    followsEmbedded: true,
  },
  { cidr: '64:ff9b:1::/48', name: 'nat64-local', reason: 'Local-use NAT64 prefix (RFC 8215), network-internal.', embeds: 'nat64-local' },
  { cidr: '100::/64', name: 'discard', reason: 'Discard-only prefix (RFC 6666).' },
  { cidr: '2001::/32', name: 'teredo', reason: 'Teredo tunnelling; carries an obfuscated IPv4 address.', embeds: 'teredo' },
  { cidr: '2001:db8::/32', name: 'documentation-v6', reason: 'IPv6 documentation range.' },
  { cidr: '2002::/16', name: '6to4', reason: '6to4 tunnelling; carries an IPv4 address in bits 16-47.', embeds: '6to4' },
  { cidr: 'fc00::/7', name: 'unique-local', reason: 'IPv6 unique local addresses, the private networks of IPv6.' },
  { cidr: 'fe80::/10', name: 'link-local-v6', reason: 'IPv6 link-local.' },
  { cidr: 'fec0::/10', name: 'site-local', reason: 'Deprecated IPv6 site-local.' },
  { cidr: 'ff00::/8', name: 'multicast-v6', reason: 'IPv6 multicast, never a proxied destination.' },
];

export { type MetadataEndpoint, METADATA_ADDRESSES, METADATA_NAMES } from './metadata-endpoints.js';

// ---- execution: compiled on first use -------------------------------------

interface CompiledRange {
  readonly range: AddressRange;
  readonly v6: boolean;
  readonly prefix: number;
  readonly network: bigint;
  readonly mask: bigint;
}

const U32 = 0xffffffffn;

/**
 * Bits of an address already in canonical text (the WHATWG serialisation:
 * dotted decimal, or hex pieces with at most one `::`). Not a parser for
 * untrusted text: callers canonicalise first.
 */
function toBits(host: CanonicalHost): bigint {
  if (host.type === 'ipv4') return host.name.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  const gap = host.name.indexOf('::');
  const pieces = (text: string): string[] => (text === '' ? [] : text.split(':'));
  const head = pieces(gap === -1 ? host.name : host.name.slice(0, gap));
  const tail = gap === -1 ? [] : pieces(host.name.slice(gap + 2));
  const all = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return all.reduce((acc, piece) => (acc << 16n) | BigInt(Number.parseInt(piece, 16)), 0n);
}

function formatIPv4(bits: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => ((bits >> shift) & 0xffn).toString()).join('.');
}

function compile(range: AddressRange): CompiledRange {
  const slash = range.cidr.lastIndexOf('/');
  const host = canonicalizeHost(range.cidr.slice(0, slash));
  const prefix = Number(range.cidr.slice(slash + 1));
  const v6 = host.type === 'ipv6';
  const width = v6 ? 128n : 32n;
  const all = (1n << width) - 1n;
  const mask = all ^ ((1n << (width - BigInt(prefix))) - 1n);
  const network = toBits(host);
  if ((network & mask) !== network) throw new Error(`${range.cidr} has host bits set`);
  return { range, v6, prefix, network, mask };
}

// Compiled on first use, not at import: `cordon run` loads this module but decides no address
// unless the policy has network rules, and the first IPv6 check costs milliseconds.
interface Tables {
  readonly compiled: readonly CompiledRange[];
  readonly metadataIps: ReadonlySet<string>;
  readonly metadataDns: ReadonlySet<string>;
}
let tables: Tables | undefined;
function t(): Tables {
  tables ??= {
    compiled: SPECIAL_RANGES.map(compile).sort((a, b) => b.prefix - a.prefix),
    metadataIps: new Set(METADATA_ADDRESSES.map((m) => canonicalizeHost(m.host).name)),
    metadataDns: new Set(METADATA_NAMES.map((m) => canonicalizeHost(m.host).name)),
  };
  return tables;
}

/** IPv4 addresses an IPv6 address in a translation range may stand for; the first is the one reported. */
function embedded(kind: EmbedKind, bits: bigint): bigint[] {
  switch (kind) {
    case 'low32':
      return [bits & U32];
    case 'teredo':
      return [(bits & U32) ^ U32];
    case '6to4':
      return [(bits >> 80n) & U32];
    case 'nat64-local':
      // RFC 6052 layouts for prefix lengths /96, /64, /56, /48 (bits 64-71 are the reserved u octet).
      return [
        bits & U32,
        (bits >> 24n) & U32,
        (((bits >> 64n) & 0xffn) << 24n) | ((bits >> 32n) & 0xffffffn),
        (((bits >> 64n) & 0xffffn) << 16n) | ((bits >> 40n) & 0xffffn),
      ];
  }
}

export interface AddressClass {
  /** Not a public unicast destination (or tunnels to one that is not). */
  readonly special: boolean;
  /** A cloud metadata endpoint, directly or embedded: mandatory deny. */
  readonly metadata: boolean;
  /** The most specific table entry the address falls in. */
  readonly range?: AddressRange;
  /** For translation ranges: the embedded IPv4 address, dotted. */
  readonly embeddedIPv4?: string;
  /** The table entry the embedded IPv4 address falls in. */
  readonly embeddedRange?: AddressRange;
  /** One sentence for 403 bodies, prompts and audit records. */
  readonly explanation: string;
}

function lookup(bits: bigint, v6: boolean): AddressRange | undefined {
  return t().compiled.find((c) => c.v6 === v6 && (bits & c.mask) === c.network)?.range;
}

/** Classes of addresses seen (the proxy asks about the same few on every request); cleared when full. */
const classified = new Map<string, AddressClass>();
const MAX_CLASSIFIED = 4096;

function classifyCanonical(host: CanonicalHost): AddressClass {
  const key = `${host.type}:${host.name}`;
  const hit = classified.get(key);
  if (hit !== undefined) return hit;
  const c = Object.freeze(classifyBits(host));
  if (classified.size >= MAX_CLASSIFIED) classified.clear();
  classified.set(key, c);
  return c;
}

function classifyBits(host: CanonicalHost): AddressClass {
  const bits = toBits(host);
  const v6 = host.type === 'ipv6';
  const range = lookup(bits, v6);
  const direct = t().metadataIps.has(host.name);
  const what = `${host.name} is`;
  if (range?.embeds === undefined) {
    const explanation = direct
      ? `${what} a cloud metadata endpoint and is never reachable.`
      : range === undefined
        ? `${what} a public address.`
        : `${what} in ${range.cidr} (${range.name}): ${range.reason}`;
    return { special: range !== undefined, metadata: direct, ...(range === undefined ? {} : { range }), explanation };
  }
  // Report the candidate that is a metadata endpoint, if any, else the first layout.
  const candidates = embedded(range.embeds, bits).map(formatIPv4);
  const embeddedIPv4 = candidates.find((c) => t().metadataIps.has(c)) ?? candidates[0] ?? '0.0.0.0';
  const embeddedRange = lookup(toBits({ name: embeddedIPv4, type: 'ipv4' }), false);
  const metadata = direct || t().metadataIps.has(embeddedIPv4);
  const special = range.followsEmbedded === true ? embeddedRange !== undefined || metadata : true;
  const inner = embeddedRange === undefined ? 'a public address' : `in ${embeddedRange.cidr} (${embeddedRange.name})`;
  const explanation = metadata
    ? `${what} in ${range.cidr} (${range.name}) and carries a cloud metadata endpoint; it is never reachable.`
    : `${what} in ${range.cidr} (${range.name}), carrying ${embeddedIPv4} (${inner}): ${range.reason}`;
  return { special, metadata, range, embeddedIPv4, ...(embeddedRange === undefined ? {} : { embeddedRange }), explanation };
}

/** Classifies an IP address in any spelling `canonicalizeHost` accepts. Throws CORDON_HOST_INVALID for names. */
export function classifyAddress(ip: string | CanonicalHost): AddressClass {
  // A CanonicalHost from elsewhere is re-canonicalised: the bit arithmetic trusts its input.
  const host = canonicalizeHost(typeof ip === 'string' ? ip : formatHost(ip));
  if (host.type === 'dns') {
    throw new CordonError('CORDON_HOST_INVALID', `${JSON.stringify(host.name)} is a DNS name, not an IP address.`);
  }
  return classifyCanonical(host);
}

/** Whether a canonical host is a cloud metadata endpoint (by name, address or embedded address). */
export function isMetadataHost(host: CanonicalHost): boolean {
  const canonical = canonicalizeHost(formatHost(host));
  return canonical.type === 'dns' ? t().metadataDns.has(canonical.name) : classifyCanonical(canonical).metadata;
}
