/**
 * A bounded reader of the TLS ClientHello, for the one thing the proxy needs
 * from tunnels it does not inspect (passthrough hosts): the SNI, to check it
 * names the CONNECT host. Handles a hello split over several records; never
 * reads past `MAX_HELLO_BYTES`.
 */

export const MAX_HELLO_BYTES = 64 * 1024;

export type HelloStep =
  | { readonly kind: 'more' }
  | { readonly kind: 'bad'; readonly reason: string }
  | { readonly kind: 'hello'; readonly sni: string | undefined };

const RECORD_HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;

/** True when `b` starts like a TLS handshake record (the first bytes a TLS client sends). */
export function looksLikeTls(b: Buffer): boolean {
  return b.length === 0 || (b[0] === RECORD_HANDSHAKE && (b.length < 2 || b[1] === 0x03));
}

/** Concatenated handshake-record payloads, or why the bytes are not TLS handshake records. */
function handshakeBytes(buf: Buffer): { bytes: Buffer; complete: boolean } | string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 5 <= buf.length) {
    if (buf[at] !== RECORD_HANDSHAKE) return 'not a TLS handshake record';
    if (buf[at + 1] !== 0x03) return 'unknown TLS record version';
    const len = buf.readUInt16BE(at + 3);
    if (len === 0 || len > 16384 + 2048) return 'bad TLS record length';
    if (at + 5 + len > buf.length) break;
    parts.push(buf.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  return { bytes: Buffer.concat(parts), complete: at === buf.length };
}

/** Parses the ClientHello from the first bytes a client sent in a tunnel. */
export function parseClientHello(buf: Buffer): HelloStep {
  if (buf.length > MAX_HELLO_BYTES) return { kind: 'bad', reason: `ClientHello longer than ${MAX_HELLO_BYTES} bytes` };
  if (!looksLikeTls(buf)) return { kind: 'bad', reason: 'the client did not start a TLS handshake' };
  const hs = handshakeBytes(buf);
  if (typeof hs === 'string') return { kind: 'bad', reason: hs };
  const b = hs.bytes;
  if (b.length < 4) return { kind: 'more' };
  if (b[0] !== CLIENT_HELLO) return { kind: 'bad', reason: 'the first handshake message is not a ClientHello' };
  const len = b.readUIntBE(1, 3);
  if (len > MAX_HELLO_BYTES) return { kind: 'bad', reason: 'ClientHello too long' };
  if (b.length < 4 + len) return { kind: 'more' };
  const body = b.subarray(4, 4 + len);
  try {
    return { kind: 'hello', sni: sniOf(body) };
  } catch (e) {
    return { kind: 'bad', reason: e instanceof Error ? e.message : 'malformed ClientHello' };
  }
}

function sniOf(body: Buffer): string | undefined {
  let at = 2 + 32; // client_version, random
  const need = (n: number): void => {
    if (at + n > body.length) throw new RangeError('truncated ClientHello');
  };
  need(1);
  at += 1 + (body[at] ?? 0); // session_id
  need(2);
  at += 2 + body.readUInt16BE(at); // cipher_suites
  need(1);
  at += 1 + (body[at] ?? 0); // compression_methods
  if (at === body.length) return undefined; // no extensions
  need(2);
  const end = at + 2 + body.readUInt16BE(at);
  at += 2;
  if (end > body.length) throw new RangeError('truncated ClientHello extensions');
  let sni: string | undefined;
  while (at + 4 <= end) {
    const type = body.readUInt16BE(at);
    const elen = body.readUInt16BE(at + 2);
    at += 4;
    if (at + elen > end) throw new RangeError('truncated ClientHello extension');
    if (type === 0) {
      if (sni !== undefined) throw new RangeError('two server_name extensions');
      sni = serverName(body.subarray(at, at + elen));
    }
    at += elen;
  }
  return sni;
}

function serverName(ext: Buffer): string | undefined {
  if (ext.length < 2) throw new RangeError('empty server_name extension');
  const listEnd = 2 + ext.readUInt16BE(0);
  if (listEnd > ext.length) throw new RangeError('truncated server_name list');
  let at = 2;
  let name: string | undefined;
  while (at + 3 <= listEnd) {
    const type = ext[at] ?? 255;
    const len = ext.readUInt16BE(at + 1);
    at += 3;
    if (at + len > listEnd) throw new RangeError('truncated server name');
    if (type === 0) {
      if (name !== undefined) throw new RangeError('two host names in server_name');
      name = ext.subarray(at, at + len).toString('latin1');
    }
    at += len;
  }
  return name;
}
