/**
 * What the two spec eras of Streamable HTTP say about headers, checked
 * without trusting the peer.
 *
 * - 2025-11-25: `initialize` handshake; `Mcp-Session-Id` after it;
 *   `MCP-Protocol-Version` on every later request.
 * - 2026-07-28: no handshake and no session; each request carries its
 *   protocol version in `params._meta["io.modelcontextprotocol/protocolVersion"]`
 *   (and the same in `MCP-Protocol-Version`); `Mcp-Method` mirrors `method` on
 *   every POST and `Mcp-Name` mirrors `params.name` (or `params.uri`) for
 *   `tools/call`, `prompts/get`, `resources/read`. A header that disagrees
 *   with the body is refused (HTTP 400, JSON-RPC -32020): whatever routes or
 *   authorises on headers must see what the server will execute.
 */
import { isObject } from '../jsonrpc.js';

export const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
/** First protocol version of the stateless era. */
export const STATELESS_ERA = '2026-07-28';
/** JSON-RPC code of a header/body mismatch (2026-07-28). */
export const HEADER_MISMATCH = -32020;

export type Era = 'session' | 'stateless';

/** Versions are dates: the stateless era starts at 2026-07-28. */
export function eraOf(version: string | null): Era {
  return version !== null && /^\d{4}-\d{2}-\d{2}$/.test(version) && version >= STATELESS_ERA ? 'stateless' : 'session';
}

/** The protocol version a message carries in `params._meta`, or null. */
export function metaVersion(params: unknown): string | null {
  if (!isObject(params)) return null;
  const meta = params['_meta'];
  if (!isObject(meta)) return null;
  const v = meta[META_VERSION];
  return typeof v === 'string' && v.length <= 64 ? v : null;
}

const NAMED: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'resources/subscribe': 'uri',
  'resources/unsubscribe': 'uri',
};

/** What `Mcp-Name` must say for a message, or null when the method names nothing. */
export function nameOf(method: string, params: unknown): string | null {
  const key = NAMED[method];
  if (key === undefined || !isObject(params)) return null;
  const v = params[key];
  return typeof v === 'string' ? v : null;
}

const HEADER_SAFE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** Header form of a value: as is when printable ASCII, else the `=?base64?…?=` sentinel. */
export function encodeHeaderValue(v: string): string {
  return HEADER_SAFE.test(v) && !v.startsWith('=?base64?') ? v : `=?base64?${Buffer.from(v, 'utf8').toString('base64')}?=`;
}

/** Decodes the `=?base64?…?=` sentinel; null when it is malformed. */
export function decodeHeaderValue(v: string): string | null {
  if (!v.startsWith('=?base64?')) return v;
  if (!v.endsWith('?=') || v.length < 11) return null;
  const b64 = v.slice(9, -2);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
  return Buffer.from(b64, 'base64').toString('utf8');
}

export interface HeaderView {
  readonly method: string | undefined;
  readonly name: string | undefined;
  readonly version: string | undefined;
}

/**
 * Checks the mirrored headers against the body. In the stateless era
 * `Mcp-Method` (and `Mcp-Name` where the method names something) are
 * required; in the session era they are optional but, when present, must
 * agree too. Returns why the request is refused, or null.
 */
export function headerMismatch(h: HeaderView, method: string, params: unknown, era: Era): string | null {
  if (h.method === undefined) {
    if (era === 'stateless') return 'the Mcp-Method header is required';
  } else if (h.method !== method) {
    return `the Mcp-Method header says ${JSON.stringify(h.method.slice(0, 100))} but the body's method is ${JSON.stringify(method)}`;
  }
  const want = nameOf(method, params);
  if (h.name === undefined) {
    if (era === 'stateless' && want !== null) return 'the Mcp-Name header is required for this method';
  } else {
    const got = decodeHeaderValue(h.name);
    if (got === null) return 'the Mcp-Name header is not a valid =?base64?…?= value';
    if (want === null || got !== want) return `the Mcp-Name header does not match the name in the body`;
  }
  const mv = metaVersion(params);
  if (h.version !== undefined && mv !== null && h.version !== mv) return `the MCP-Protocol-Version header (${h.version.slice(0, 40)}) differs from the body's _meta protocol version (${mv})`;
  return null;
}
