/**
 * The proxy's side of the broker, as a `RequestScanner` wrapped around the
 * DLP scanner. The proxy knows the placeholders (they are not secrets), their
 * hosts and headers. A placeholder in its credential's header of a request to
 * one of its hosts marks the request for the broker (`route`), and that
 * header is hidden from the DLP scan; a placeholder anywhere else (URL, other
 * headers, another host) is a finding: the request is refused and recorded as
 * an exfiltration attempt. Bodies and WebSocket frames are scanned by the DLP
 * scanner, which holds the placeholders' fingerprints (every encoding it
 * handles); its findings for them are renamed so the record says so.
 */
import { redactSample } from '../audit/redact.js';
import type { Finding, RequestScanner, ScanContext, ScanResult } from '../egress/scanner.js';
import { parseAuthority } from '../egress/hostname.js';
import { compileHost, hostMatches, type HostPattern } from './hosts.js';
import { placeholderLabel, type ProxyCredentials } from './ipc.js';

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

  async url(sc: ScanContext, url: string): Promise<ScanResult> {
    const text = `${url}\n${decoded(url)}`;
    const own = this.#known.filter((k) => text.includes(k.placeholder)).map((k) => this.#finding(k, 'url', !this.#forHost(k, sc)));
    return [...own, ...this.#rename(await this.#inner.url(sc, url))];
  }

  async headers(sc: ScanContext, raw: readonly string[]): Promise<ScanResult> {
    const own: Finding[] = [];
    const masked = [...raw];
    const routed: string[] = [];
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

  async bodyEnd(sc: ScanContext): Promise<ScanResult> {
    return this.#rename(await this.#inner.bodyEnd(sc));
  }

  async websocketFrame(sc: ScanContext, direction: 'up' | 'down', payload: Buffer): Promise<ScanResult> {
    const own = direction === 'up' ? this.#raw(sc, 'websocket', payload) : [];
    return [...own, ...this.#rename(await this.#inner.websocketFrame(sc, direction, payload))];
  }
}
