/**
 * SOCKS5 (RFC 1928) handshake parsing, pure and incremental: each function
 * looks at the bytes received so far and says "need more", "done" (with how
 * many bytes it used) or "bad" with the reply code to send. Only the no-auth
 * method and the CONNECT command are supported.
 */
import { CordonError } from '../errors.js';
import type { CanonicalHost } from '../policy/types.js';
import { canonicalizeHost } from './hostname.js';

export const SOCKS_VERSION = 0x05;
export const REPLY = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  refused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;
export type ReplyCode = (typeof REPLY)[keyof typeof REPLY];

export type Step<T> =
  | { readonly kind: 'more' }
  | { readonly kind: 'done'; readonly used: number; readonly value: T }
  | { readonly kind: 'bad'; readonly reply: ReplyCode | 'no-method'; readonly reason: string };

const MORE = { kind: 'more' } as const;

/** Greeting: VER NMETHODS METHODS... ; accepted when VER is 5 and 0x00 (no auth) is offered. */
export function parseGreeting(b: Buffer): Step<null> {
  if (b.length < 1) return MORE;
  if (b[0] !== SOCKS_VERSION) return { kind: 'bad', reply: 'no-method', reason: `not SOCKS5 (first byte 0x${(b[0] ?? 0).toString(16)})` };
  if (b.length < 2) return MORE;
  const n = b[1] ?? 0;
  if (n === 0) return { kind: 'bad', reply: 'no-method', reason: 'the greeting offers no method' };
  if (b.length < 2 + n) return MORE;
  const methods = b.subarray(2, 2 + n);
  if (!methods.includes(0x00)) return { kind: 'bad', reply: 'no-method', reason: 'only the no-authentication method is supported' };
  return { kind: 'done', used: 2 + n, value: null };
}

export interface SocksTarget {
  readonly host: CanonicalHost;
  readonly port: number;
  /** A domain name as the client sent it (case kept, for the DLP's label rules). */
  readonly written?: string;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function toHost(text: string): CanonicalHost | string {
  try {
    return canonicalizeHost(text);
  } catch (e) {
    return e instanceof CordonError ? e.message : 'invalid host';
  }
}

/** Request: VER CMD RSV ATYP DST.ADDR DST.PORT. Domain names go through the one canonicaliser. */
export function parseRequest(b: Buffer): Step<SocksTarget> {
  if (b.length < 4) return MORE;
  if (b[0] !== SOCKS_VERSION) return { kind: 'bad', reply: REPLY.generalFailure, reason: 'request version is not 5' };
  if (b[1] !== 0x01) return { kind: 'bad', reply: REPLY.commandNotSupported, reason: `command 0x${(b[1] ?? 0).toString(16)} is not supported (CONNECT only)` };
  if (b[2] !== 0x00) return { kind: 'bad', reply: REPLY.generalFailure, reason: 'reserved byte is not zero' };
  const atyp = b[3];
  let hostText: string;
  let end: number;
  if (atyp === 0x01) {
    end = 4 + 4;
    if (b.length < end + 2) return MORE;
    hostText = [...b.subarray(4, end)].join('.');
  } else if (atyp === 0x04) {
    end = 4 + 16;
    if (b.length < end + 2) return MORE;
    const parts: string[] = [];
    for (let i = 4; i < end; i += 2) parts.push(b.readUInt16BE(i).toString(16));
    hostText = `[${parts.join(':')}]`;
  } else if (atyp === 0x03) {
    if (b.length < 5) return MORE;
    const len = b[4] ?? 0;
    if (len === 0) return { kind: 'bad', reply: REPLY.hostUnreachable, reason: 'empty domain name' };
    end = 5 + len;
    if (b.length < end + 2) return MORE;
    try {
      hostText = UTF8.decode(b.subarray(5, end));
    } catch {
      return { kind: 'bad', reply: REPLY.hostUnreachable, reason: 'domain name is not valid UTF-8' };
    }
  } else {
    return { kind: 'bad', reply: REPLY.addressTypeNotSupported, reason: `address type 0x${(atyp ?? 0).toString(16)} is not supported` };
  }
  const port = b.readUInt16BE(end);
  if (port === 0) return { kind: 'bad', reply: REPLY.hostUnreachable, reason: 'port 0' };
  const host = toHost(hostText);
  if (typeof host === 'string') return { kind: 'bad', reply: REPLY.hostUnreachable, reason: host };
  return { kind: 'done', used: end + 2, value: { host, port, ...(atyp === 0x03 ? { written: hostText } : {}) } };
}

/** A reply with an all-zero IPv4 bind address (clients ignore it for CONNECT). */
export function reply(code: ReplyCode): Buffer {
  return Buffer.from([SOCKS_VERSION, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}

/** The method-selection answer: 0x00 (no auth) or 0xff (no acceptable method). */
export function methodReply(ok: boolean): Buffer {
  return Buffer.from([SOCKS_VERSION, ok ? 0x00 : 0xff]);
}
