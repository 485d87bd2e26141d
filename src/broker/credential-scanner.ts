/**
 * The proxy's side of the broker, as a `RequestScanner` wrapped around the
 * DLP scanner. The proxy knows the placeholders (they are not secrets), their
 * hosts and headers. A placeholder in its credential's header of a request to
 * one of its hosts marks the request for the broker (`route`), and that
 * header is hidden from the DLP scan; a placeholder anywhere else (URL, other
 * headers, another host) is a finding: the request is refused and recorded as
 * an exfiltration attempt. One URL shape is the broker's too: a presigned AWS
 * URL whose `X-Amz-Credential` starts with the AWS key id's placeholder (the
 * only occurrence of it in the URL), to one of its hosts; the broker re-signs
 * it. Bodies and WebSocket frames are scanned by the DLP
 * scanner, which holds the placeholders' fingerprints (every encoding it
 * handles); its findings for them are renamed so the record says so.
 */
import { redactSample } from '../audit/redact.js';
import type { Finding, RequestScanner, ScanContext, ScanResult } from '../egress/scanner.js';
import { parseAuthority } from '../egress/hostname.js';
import { compileHost, hostMatches, type HostPattern } from './hosts.js';
import { placeholderLabel, type ProxyCredentials } from './ipc.js';

/** The credential whose placeholder may sit in a presigned URL's X-Amz-Credential (the broker pairs it with AWS_SECRET_ACCESS_KEY). */
const AWS_KEY_ID = 'AWS_ACCESS_KEY_ID';

function occurrences(hay: string, needle: string): number {
  let n = 0;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) n++;
  return n;
}

/** Detector name of placeholder findings: records and refusals show it. */
export const PLACEHOLDER_DETECTOR = 'cordon-placeholder';

interface Known {
  readonly name: string;
  readonly placeholder: string;
  readonly hosts: readonly HostPattern[];
  readonly header: string;
  /** The redacted sample the DLP scanner gives for this placeholder's fingerprint label. */
  readonly labelSample: string;
}

/** Where the broker is, for a request the scanner marked. */
export interface BrokerRoute {
  readonly socket: string;
  readonly credentials: readonly string[];
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export class CredentialScanner implements RequestScanner {
  readonly #inner: RequestScanner;
  readonly #known: readonly Known[];
  readonly #socket: string;
  readonly #routes = new WeakMap<ScanContext, string[]>();
  /** Requests whose URL is presigned with the AWS key id's placeholder (url() runs before headers()). */
  readonly #presigned = new WeakMap<ScanContext, string>();
  readonly #tails = new WeakMap<ScanContext, Buffer>();

  constructor(inner: RequestScanner, config: ProxyCredentials) {
    this.#inner = inner;
    this.#socket = config.socket;
    this.#known = config.credentials.map((c, i) => ({
      name: c.name, placeholder: c.placeholder, hosts: c.hosts.map((h) => compileHost(c.name, h)), header: c.header.toLowerCase(), labelSample: redactSample(placeholderLabel(i)),
    }));
  }

  /** The broker route for a request whose headers were scanned with `sc`, if it carries a placeholder where it belongs. */
  route(sc: ScanContext): BrokerRoute | undefined {
    const names = this.#routes.get(sc);
    return names === undefined ? undefined : { socket: this.#socket, credentials: names };
  }

  #finding(k: Known, where: string, outside: boolean): Finding {
    return { detector: `${PLACEHOLDER_DETECTOR}:${k.name}`, where: `${where}${outside ? ' (not a host of this credential)' : ''}`, sample: redactSample(k.placeholder) };
  }

  #forHost(k: Known, sc: ScanContext): boolean {
    try {
      const a = parseAuthority(sc.host, sc.port);
      return hostMatches(k.hosts, a.host, a.port, undefined);
    } catch {
      return false;
    }
  }

  /** DLP findings for placeholder fingerprints, renamed so the record names the credential. */
  #rename(found: ScanResult): ScanResult {
    return found.map((f) => {
      const k = f.detector === 'known-secret' ? this.#known.find((x) => x.labelSample === f.sample) : undefined;
      return k === undefined ? f : { ...f, detector: `${PLACEHOLDER_DETECTOR}:${k.name}`, sample: redactSample(k.placeholder) };
    });
  }

  /** The AWS key id's credential when `url` is a presigned URL naming its placeholder once, in X-Amz-Credential, to one of its hosts. */
  #presignedBy(sc: ScanContext, url: string): Known | undefined {
    const k = this.#known.find((x) => x.name === AWS_KEY_ID);
    const q = url.indexOf('?');
    if (k === undefined || q < 0 || occurrences(url, k.placeholder) !== 1 || occurrences(decoded(url), k.placeholder) !== 1) return undefined;
    const params = url.slice(q + 1).split('&').map((p) => {
      const eq = p.indexOf('=');
      return { name: decoded(eq < 0 ? p : p.slice(0, eq)), value: decoded(eq < 0 ? '' : p.slice(eq + 1)) };
    });
    const one = (name: string): string | undefined => {
      const found = params.filter((p) => p.name === name);
      return found.length === 1 ? found[0]?.value : undefined;
    };
    if (one('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || one('X-Amz-Signature') === undefined) return undefined;
    if (one('X-Amz-Credential')?.startsWith(`${k.placeholder}/`) !== true) return undefined;
    return this.#forHost(k, sc) ? k : undefined;
  }

  async url(sc: ScanContext, url: string): Promise<ScanResult> {
    const presigned = this.#presignedBy(sc, url);
    if (presigned === undefined) this.#presigned.delete(sc);
    else this.#presigned.set(sc, presigned.name);
    // The placeholder the broker re-signs is hidden from the DLP scan, as a routed header is.
    const scanned = presigned === undefined ? url : url.replace(presigned.placeholder, '[credential placeholder, re-signed by the broker]');
    const text = `${scanned}\n${decoded(scanned)}`;
    const own = this.#known.filter((k) => text.includes(k.placeholder)).map((k) => this.#finding(k, 'url', !this.#forHost(k, sc)));
    return [...own, ...this.#rename(await this.#inner.url(sc, scanned))];
  }

  async headers(sc: ScanContext, raw: readonly string[]): Promise<ScanResult> {
    const own: Finding[] = [];
    const masked = [...raw];
    const fromUrl = this.#presigned.get(sc);
    this.#presigned.delete(sc);
    const routed: string[] = fromUrl === undefined ? [] : [fromUrl];
    for (let i = 0; i + 1 < masked.length; i += 2) {
      const name = (masked[i] ?? '').toLowerCase();
      const value = masked[i + 1] ?? '';
      const basic = name === 'authorization' && /^Basic\s+[A-Za-z0-9+/=]+$/i.test(value) ? Buffer.from(value.replace(/^Basic\s+/i, ''), 'base64').toString('utf8') : '';
      for (const k of this.#known) {
        if (!value.includes(k.placeholder) && !basic.includes(k.placeholder)) continue;
        const forHost = this.#forHost(k, sc);
        if (forHost && name === k.header) {
          routed.push(k.name);
          masked[i + 1] = '[credential placeholder, replaced by the broker]';
        } else {
          own.push(this.#finding(k, `header:${name}`, !forHost));
        }
      }
    }
    if (routed.length > 0 && own.length === 0) this.#routes.set(sc, routed);
    else this.#routes.delete(sc);
    return [...own, ...this.#rename(await this.#inner.headers(sc, masked))];
  }

  /** Raw placeholders in a stream (bodies, frames), with an overlap across chunks: found even when DLP is off. */
  #raw(sc: ScanContext, where: string, chunk: Buffer): Finding[] {
    const keep = Math.max(...this.#known.map((k) => Buffer.byteLength(k.placeholder))) - 1;
    const hay = Buffer.concat([this.#tails.get(sc) ?? Buffer.alloc(0), chunk]);
    this.#tails.set(sc, Buffer.from(hay.subarray(Math.max(0, hay.length - keep))));
    return this.#known.filter((k) => hay.includes(k.placeholder)).map((k) => this.#finding(k, where, !this.#forHost(k, sc)));
  }

  async bodyChunk(sc: ScanContext, chunk: Buffer, contentEncoding: string | undefined): Promise<ScanResult> {
    return [...this.#raw(sc, 'body', chunk), ...this.#rename(await this.#inner.bodyChunk(sc, chunk, contentEncoding))];
  }

  /** The proxy's scan batches as pieces: searched piece by piece, handed on unjoined (no 1 MiB copy per batch here). */
  async bodyChunks(sc: ScanContext, chunks: readonly Buffer[], contentEncoding: string | undefined): Promise<ScanResult> {
    const own = this.#rawPieces(sc, 'body', chunks);
    const inner = this.#inner.bodyChunks === undefined
      ? await this.#inner.bodyChunk(sc, Buffer.concat(chunks), contentEncoding)
      : await this.#inner.bodyChunks(sc, chunks, contentEncoding);
    return [...own, ...this.#rename(inner)];
  }

  /** `#raw` over pieces that follow one another, without joining them: each piece alone, and each boundary with the bytes before it. */
  #rawPieces(sc: ScanContext, where: string, pieces: readonly Buffer[]): Finding[] {
    if (this.#known.length === 0) return [];
    const keep = Math.max(...this.#known.map((k) => Buffer.byteLength(k.placeholder))) - 1;
    const found = new Set<Known>();
    let tail = this.#tails.get(sc) ?? Buffer.alloc(0);
    for (const p of pieces) {
      // Every occurrence that crosses into `p` starts in the last `keep` bytes before it and ends in its first `keep`.
      const edge = Buffer.concat([tail, p.subarray(0, keep)]);
      for (const k of this.#known) if (!found.has(k) && (p.includes(k.placeholder) || edge.includes(k.placeholder))) found.add(k);
      tail = p.length >= keep ? p.subarray(p.length - keep) : edge.subarray(Math.max(0, edge.length - keep));
    }
    this.#tails.set(sc, Buffer.from(tail));
    return [...found].map((k) => this.#finding(k, where, !this.#forHost(k, sc)));
  }

  async bodyEnd(sc: ScanContext): Promise<ScanResult> {
    return this.#rename(await this.#inner.bodyEnd(sc));
  }

  async websocketFrame(sc: ScanContext, direction: 'up' | 'down', payload: Buffer): Promise<ScanResult> {
    const own = direction === 'up' ? this.#raw(sc, 'websocket', payload) : [];
    return [...own, ...this.#rename(await this.#inner.websocketFrame(sc, direction, payload))];
  }
}
