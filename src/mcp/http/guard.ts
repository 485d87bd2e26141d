/**
 * The listener's checks before any body is read: the `Host` and `Origin`
 * headers name this loopback listener (a web page that rebinds a DNS name
 * to 127.0.0.1 sends its own name in both), and the request carries this
 * session's bearer token. The token is compared in constant time and is
 * never passed upstream.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface GuardOptions {
  /** The port the listener is reachable on (inside the sandbox it may differ from the real socket's). */
  readonly port: () => number;
  /** The bearer token clients must present. */
  readonly token: string;
  /** Extra origins allowed, exactly as a browser sends them (`http://localhost:5173`). */
  readonly origins?: readonly string[];
}

export interface Refusal {
  readonly status: number;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function loopbackAuthority(value: string, port: number): boolean {
  return LOOPBACK_HOSTS.some((h) => value === `${h}:${port}`);
}

export class Guard {
  readonly #o: GuardOptions;
  readonly #want: Buffer;

  constructor(o: GuardOptions) {
    if (o.token.length < 16) throw new TypeError('the bearer token is too short');
    this.#o = o;
    this.#want = digest(o.token);
  }

  check(req: IncomingMessage): Refusal | null {
    const port = this.#o.port();
    const host = req.headers.host;
    if (host === undefined || !loopbackAuthority(host.toLowerCase(), port)) {
      return { status: 403, message: `cordon's MCP gateway answers only to 127.0.0.1:${port} (Host was ${JSON.stringify((host ?? '').slice(0, 100))}); this protects it from DNS rebinding` };
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let ok = (this.#o.origins ?? []).includes(origin);
      if (!ok) {
        try {
          const u = new URL(origin);
          ok = u.protocol === 'http:' && u.pathname === '/' && loopbackAuthority(u.host, port);
        } catch {
          ok = false;
        }
      }
      if (!ok) return { status: 403, message: `requests from origin ${JSON.stringify(origin.slice(0, 200))} are refused by cordon's MCP gateway` };
    }
    const auth = req.headers.authorization;
    const m = auth === undefined ? null : /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(auth);
    const challenge = { 'www-authenticate': 'Bearer realm="cordon-mcp"' };
    if (m === null || m[1] === undefined) {
      return { status: 401, message: 'cordon\'s MCP gateway needs this session\'s bearer token (Authorization: Bearer $CORDON_MCP_TOKEN)', headers: challenge };
    }
    if (!timingSafeEqual(digest(m[1]), this.#want)) {
      return { status: 401, message: 'the bearer token is not this session\'s token', headers: { 'www-authenticate': 'Bearer realm="cordon-mcp", error="invalid_token"' } };
    }
    return null;
  }
}
