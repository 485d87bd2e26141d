/**
 * JSON-RPC 2.0 message classification without trusting the peer: every field
 * the gateway reads is checked for its type; everything else stays in the
 * original bytes, which are what gets forwarded when a message is not changed.
 */

export type JsonRpcId = string | number;
export type JsonObject = Record<string, unknown>;

export type Message =
  | { readonly kind: 'request'; readonly id: JsonRpcId; readonly method: string; readonly params: unknown; readonly raw: string; readonly obj: JsonObject }
  | { readonly kind: 'notification'; readonly method: string; readonly params: unknown; readonly raw: string; readonly obj: JsonObject }
  | { readonly kind: 'response'; readonly id: JsonRpcId; readonly ok: boolean; readonly result: unknown; readonly raw: string; readonly obj: JsonObject }
  /** `code`: -32700 when the text is not JSON at all, -32600 when it is JSON but not a valid JSON-RPC message. */
  | { readonly kind: 'invalid'; readonly id: JsonRpcId | null; readonly reason: string; readonly code: number };

/** JSON-RPC error codes the gateway sends (peer-facing family, STYLE.md item 5). */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  /** The gateway itself is overloaded or the upstream is gone: a server-side fault, not the client's. */
  gatewayUnavailable: -32000,
  /** A request other than tools/call refused by policy (tools/call gets an isError result instead). */
  policyBlocked: -32001,
} as const;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validId(v: unknown): v is JsonRpcId {
  // A number past 2^53 loses digits in JSON.parse: the answer would carry an id the client never sent.
  return (typeof v === 'string' && v.length <= 1024) || (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER);
}

/** Table key of an id: `1` and `"1"` are different requests. */
export function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

/**
 * Deepest JSON nesting accepted at a trust boundary (MCP messages, hook input). Real messages nest
 * a few levels; a hostile one nested 100k deep parses, but every recursive walk after it (stringify,
 * the argument scanners, policy matchers) would overflow the stack and take the process down.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * True when `text` opens more than `max` arrays/objects inside each other (strings skipped,
 * escapes honoured). Linear, no allocation; a text shorter than `max` cannot exceed it and is not read.
 */
export function jsonNestingExceeds(text: string, max: number = MAX_JSON_DEPTH): boolean {
  if (text.length <= max) return false;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: find its closing quote, one not preceded by an odd run of backslashes.
      for (;;) {
        const q = text.indexOf('"', i + 1);
        if (q === -1) return false; // unterminated: JSON.parse reports it
        let bs = 0;
        for (let k = q - 1; k > i && text.charCodeAt(k) === 0x5c; k--) bs++;
        i = q;
        if (bs % 2 === 0) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

export function classify(raw: string): Message {
  if (jsonNestingExceeds(raw)) {
    return { kind: 'invalid', id: sniffId(raw.slice(0, 512)), reason: `nested deeper than ${MAX_JSON_DEPTH} levels`, code: RPC.invalidRequest };
  }
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    return { kind: 'invalid', id: null, reason: 'not valid JSON', code: RPC.parseError };
  }
  if (!isObject(obj)) return { kind: 'invalid', id: null, reason: Array.isArray(obj) ? 'JSON-RPC batches are not accepted' : 'not a JSON object', code: RPC.invalidRequest };
  const id = obj['id'];
  const idOk = validId(id);
  if (obj['jsonrpc'] !== '2.0') return { kind: 'invalid', id: idOk ? id : null, reason: 'jsonrpc must be "2.0"', code: RPC.invalidRequest };
  const method = obj['method'];
  if (method !== undefined) {
    if (typeof method !== 'string' || method === '' || method.length > 256) return { kind: 'invalid', id: idOk ? id : null, reason: 'method must be a short string', code: RPC.invalidRequest };
    if (id === undefined) return { kind: 'notification', method, params: obj['params'], raw, obj };
    if (!idOk) return { kind: 'invalid', id: null, reason: 'id must be a string or a number', code: RPC.invalidRequest };
    return { kind: 'request', id, method, params: obj['params'], raw, obj };
  }
  if (!idOk) return { kind: 'invalid', id: null, reason: 'a response needs a string or number id', code: RPC.invalidRequest };
  const hasResult = Object.hasOwn(obj, 'result');
  const hasError = Object.hasOwn(obj, 'error');
  if (hasResult === hasError) return { kind: 'invalid', id, reason: 'a response has exactly one of result and error', code: RPC.invalidRequest };
  return { kind: 'response', id, ok: hasResult, result: obj['result'], raw, obj };
}

/** Finds a request id in the first bytes of an oversized line, so the sender still gets an answer. */
export function sniffId(head: string): JsonRpcId | null {
  const m = /"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,15})/.exec(head);
  if (m === null || m[1] === undefined) return null;
  try {
    const v: unknown = JSON.parse(m[1]);
    return validId(v) ? v : null;
  } catch {
    return null;
  }
}

export function errorLine(id: JsonRpcId | null, code: number, message: string, data?: JsonObject): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: { code, message, ...(data === undefined ? {} : { data }) } });
}

export function resultLine(id: JsonRpcId, result: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id, result });
}

/** The same message with a new `result`; every other field kept. */
export function withResult(obj: JsonObject, result: unknown): string {
  return JSON.stringify({ ...obj, result });
}

export function requestLine(id: JsonRpcId, method: string, params?: JsonObject): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
}
