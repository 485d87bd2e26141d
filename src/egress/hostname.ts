/**
 * The one host canonicaliser. Request URLs, Host headers, CONNECT authorities,
 * SOCKS5 domain names, TLS SNI and policy subjects all pass through
 * `canonicalizeHost`, so two spellings of one destination always compare equal
 * and a spelling the platform would silently rewrite is refused instead.
 *
 * Parsing is the platform's: `url.domainToASCII` (UTS #46 and the WHATWG IPv4
 * parser) for names and IPv4, the WHATWG URL parser for IPv6 and authorities.
 * What this module adds is refusal of every character the platform would drop,
 * decode or map away before parsing (controls, whitespace, invisibles, `%`).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { CordonError } from '../errors.js';
import type { CanonicalHost } from '../policy/types.js';

/** Longest input accepted before any parsing (bounds work on hostile input). */
export const MAX_HOST_INPUT = 1024;
/** Longest URL `hostFromUrl` accepts. */
export const MAX_URL_LENGTH = 16_384;
const MAX_NAME_OCTETS = 253;
const MAX_LABEL_OCTETS = 63;

/** Default ports of the schemes the proxy handles; any other scheme is refused. */
export const DEFAULT_PORTS: ReadonlyMap<string, number> = new Map([
  ['http', 80],
  ['https', 443],
  ['ws', 80],
  ['wss', 443],
]);

const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}]/u;
const WHITESPACE = /\p{White_Space}/u;
const DELIMITERS: ReadonlyMap<string, string> = new Map([
  ['@', "'@' (userinfo is never accepted in a host)"],
  ['/', "'/' (a path is not part of a host)"],
  ['\\', "'\\' (a path is not part of a host)"],
  ['?', "'?' (a query is not part of a host)"],
  ['#', "'#' (a fragment is not part of a host)"],
  ['%', "'%' (percent-encoding is never decoded in a host)"],
]);

const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
const ANY_DELIMITER = /[@/\\?#%]/;

/**
 * Results of the pure parsers for recent inputs (the same few hosts are asked
 * about on every request); frozen, bounded, errors never cached.
 */
class Memo<T> {
  readonly #map = new Map<string, T>();
  get(key: string, make: () => T): T {
    const hit = this.#map.get(key);
    if (hit !== undefined) return hit;
    const value = Object.freeze(make());
    if (this.#map.size >= 512) this.#map.clear();
    this.#map.set(key, value);
    return value;
  }
}
const hosts = new Memo<CanonicalHost>();
const authorities = new Memo<{ host: CanonicalHost; port: number }>();
const urls = new Memo<{ host: CanonicalHost; port: number; scheme: string; path: string }>();
/** Longer URLs are parsed every time (the memo holds at most 512 entries of at most this many characters). */
const MAX_MEMO_URL = 2048;

function invalid(message: string): CordonError {
  return new CordonError('CORDON_HOST_INVALID', message);
}

function codePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Printable form of an input for messages: non-ASCII and controls escaped, bounded. */
function show(text: string): string {
  let out = '';
  for (const ch of text.slice(0, 100)) {
    const cp = ch.codePointAt(0) ?? 0;
    out += cp >= 0x20 && cp < 0x7f ? ch : `\\u{${cp.toString(16)}}`;
  }
  return JSON.stringify(text.length > 100 ? `${out}...` : out);
}

/**
 * Refuses characters that the platform parsers would drop, map or decode before
 * parsing. `delimiters` is false for whole URLs, where `/`, `?`... are structure.
 */
function rejectUnsafeChars(text: string, what: string, delimiters: boolean): void {
  // Printable ASCII other than space holds none of the refused characters; only delimiters remain to check.
  if (PRINTABLE_ASCII.test(text) && (!delimiters || !ANY_DELIMITER.test(text))) return;
  let offset = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    const at = `${what} contains`;
    const where = `at offset ${offset}`;
    if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
      throw invalid(`${at} a control character (${codePoint(cp)}) ${where}.`);
    }
    if (WHITESPACE.test(ch)) throw invalid(`${at} whitespace (${codePoint(cp)}) ${where}.`);
    if (INVISIBLE.test(ch)) {
      throw invalid(`${at} an invisible or bidirectional character (${codePoint(cp)}) ${where}.`);
    }
    const delimiter = DELIMITERS.get(ch);
    // Two or more colons: an IPv6 address, where '%' starts a zone id.
    if (delimiters && delimiter !== undefined) {
      if (ch === '%' && text.indexOf(':') !== text.lastIndexOf(':')) {
        throw invalid(`${at} '%' ${where}: IPv6 zone ids are refused, a proxy never connects by interface scope.`);
      }
      throw invalid(`${at} ${delimiter} ${where}.`);
    }
    offset += ch.length;
  }
}

function canonicalIPv6(inner: string, input: string): CanonicalHost {
  let hostname: string;
  try {
    hostname = new URL(`http://[${inner}]/`).hostname;
  } catch {
    throw invalid(`${show(input)} is not a valid IPv6 address (for host:port use parseAuthority).`);
  }
  const name = hostname.slice(1, -1);
  if (!isIPv6(name)) throw invalid(`${show(input)} is not a valid IPv6 address.`);
  return { name, type: 'ipv6' };
}

function canonicalName(input: string): CanonicalHost {
  const ascii = domainToASCII(input);
  if (ascii === '') {
    throw invalid(
      `${show(input)} is not a valid hostname or IPv4 address (IDNA conversion failed, or a numeric last label is not a valid IPv4 address).`,
    );
  }
  if (isIPv4(ascii)) return { name: ascii, type: 'ipv4' };
  const name = ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
  if (name === '') throw invalid(`${show(input)} has no labels.`);
  if (name.length > MAX_NAME_OCTETS) {
    throw invalid(`${show(input)} is ${name.length} octets after IDNA; the limit is ${MAX_NAME_OCTETS}.`);
  }
  const labels = name.split('.');
  for (const label of labels) {
    if (label === '') throw invalid(`${show(input)} has an empty label (two dots in a row, or more than one trailing dot).`);
    if (label.length > MAX_LABEL_OCTETS) {
      throw invalid(`${show(input)} has a label of ${label.length} octets after IDNA; the limit is ${MAX_LABEL_OCTETS}.`);
    }
    for (const ch of label) {
      const ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch === '-' || ch === '_';
      if (!ok) throw invalid(`${show(input)} contains ${show(ch)}; hostnames allow letters, digits, '-' and '_' only.`);
    }
  }
  const last = labels[labels.length - 1] ?? '';
  if (last.startsWith('0x') || [...last].every((ch) => ch >= '0' && ch <= '9')) {
    throw invalid(`${show(input)} ends in a numeric label but is not a valid IPv4 address.`);
  }
  return { name, type: 'dns' };
}

/**
 * Canonicalises a host (no port): lowercase IDNA ASCII without trailing dot,
 * dotted-quad IPv4 from any WHATWG spelling, or compressed IPv6 without brackets.
 * Throws CordonError CORDON_HOST_INVALID saying what was wrong.
 */
export function canonicalizeHost(input: string): CanonicalHost {
  return hosts.get(input, () => canonicalizeHostOnce(input));
}

function canonicalizeHostOnce(input: string): CanonicalHost {
  if (input.length === 0) throw invalid('Host is empty.');
  if (input.length > MAX_HOST_INPUT) throw invalid(`Host is longer than ${MAX_HOST_INPUT} characters.`);
  rejectUnsafeChars(input, 'Host', true);
  if (input.startsWith('[')) {
    if (!input.endsWith(']')) throw invalid(`${show(input)} opens '[' without a closing ']'.`);
    return canonicalIPv6(input.slice(1, -1), input);
  }
  if (input.includes('[') || input.includes(']')) {
    throw invalid(`${show(input)} contains '[' or ']' outside a bracketed IPv6 address.`);
  }
  if (input.includes(':')) return canonicalIPv6(input, input);
  return canonicalName(input);
}

/** True for `localhost` and `*.localhost` (RFC 6761): DNS names that mean loopback. */
export function isLoopbackName(host: CanonicalHost): boolean {
  return host.type === 'dns' && (host.name === 'localhost' || host.name.endsWith('.localhost'));
}

/** The host as written in an authority or URL: IPv6 in brackets. */
export function formatHost(host: CanonicalHost): string {
  return host.type === 'ipv6' ? `[${host.name}]` : host.name;
}

/** `host:port` with IPv6 in brackets. */
export function formatAuthority(host: CanonicalHost, port: number): string {
  return `${formatHost(host)}:${port}`;
}

function checkDefaultPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Default port ${port} is not an integer in 1-65535.`);
  }
}

/**
 * Parses `host:port` or `[v6]:port` (CONNECT targets, Host headers) with the
 * WHATWG URL parser. Refuses userinfo, paths, port 0 or above 65535, an empty
 * port, and a missing port when no `defaultPort` is given.
 */
export function parseAuthority(authority: string, defaultPort?: number): { host: CanonicalHost; port: number } {
  return authorities.get(`${defaultPort ?? ''} ${authority}`, () => parseAuthorityOnce(authority, defaultPort));
}

function parseAuthorityOnce(authority: string, defaultPort?: number): { host: CanonicalHost; port: number } {
  if (defaultPort !== undefined) checkDefaultPort(defaultPort);
  if (authority.length === 0) throw invalid('Authority is empty.');
  if (authority.length > MAX_HOST_INPUT) throw invalid(`Authority is longer than ${MAX_HOST_INPUT} characters.`);
  rejectUnsafeChars(authority, 'Authority', true);
  if (authority.endsWith(':')) throw invalid(`${show(authority)} has an empty port.`);
  let viaHttp: URL;
  let viaHttps: URL;
  try {
    // Two special schemes with different default ports: whichever one did not
    // elide the port shows it, so ':80' and ':443' are never lost.
    viaHttp = new URL(`http://${authority}`);
    viaHttps = new URL(`https://${authority}`);
  } catch {
    throw invalid(
      `${show(authority)} is not a valid host:port authority (IPv6 needs brackets; the port must be 1-65535).`,
    );
  }
  const portText = viaHttp.port !== '' ? viaHttp.port : viaHttps.port;
  let port: number;
  if (portText === '') {
    if (defaultPort === undefined) throw invalid(`${show(authority)} has no port.`);
    port = defaultPort;
  } else {
    port = Number(portText);
  }
  if (port === 0) throw invalid(`${show(authority)} has port 0.`);
  return { host: canonicalizeHost(viaHttp.hostname), port };
}

/** The raw authority text after `scheme://`: up to the first `/`, `\`, `?` or `#`. */
function rawAuthority(rest: string): string {
  let end = 0;
  while (end < rest.length && !'/\\?#'.includes(rest.charAt(end))) end += 1;
  return rest.slice(0, end);
}

/**
 * Host, port, scheme and (WHATWG-normalised) path and query of an absolute http, https, ws or wss URL. The URL
 * must be written `scheme://authority...`; credentials in the URL are refused.
 * The authority is parsed twice (as part of the URL and on its own) and the
 * two results must agree.
 */
export function hostFromUrl(url: string): { host: CanonicalHost; port: number; scheme: string; path: string } {
  // Keep-alive clients ask for the same few URLs again and again: memoised like hosts (frozen, errors not cached).
  return url.length <= MAX_MEMO_URL ? urls.get(url, () => hostFromUrlOnce(url)) : hostFromUrlOnce(url);
}

function hostFromUrlOnce(url: string): { host: CanonicalHost; port: number; scheme: string; path: string } {
  if (url.length > MAX_URL_LENGTH) throw invalid(`URL is longer than ${MAX_URL_LENGTH} characters.`);
  rejectUnsafeChars(url, 'URL', false);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('Not a valid absolute URL.');
  }
  const scheme = parsed.protocol.slice(0, -1);
  const defaultPort = DEFAULT_PORTS.get(scheme);
  if (defaultPort === undefined) throw invalid(`URL scheme ${show(scheme)} is not supported (http, https, ws, wss).`);
  if (parsed.username !== '' || parsed.password !== '') {
    throw invalid('URL contains credentials (userinfo); remove them, cordon never forwards credentials in URLs.');
  }
  const prefix = `${scheme}://`;
  if (url.slice(0, prefix.length).toLowerCase() !== prefix) {
    throw invalid(`URL must start with ${show(prefix)}.`);
  }
  const { host, port } = parseAuthority(rawAuthority(url.slice(prefix.length)), defaultPort);
  const again = canonicalizeHost(parsed.hostname);
  const againPort = parsed.port === '' ? defaultPort : Number(parsed.port);
  if (again.name !== host.name || again.type !== host.type || againPort !== port) {
    throw invalid('URL authority parses two different ways; refusing it.');
  }
  return { host, port, scheme, path: `${parsed.pathname}${parsed.search}` };
}
