/**
 * The broker's HTTP server on a Unix socket. The proxy sends each request
 * that carries a placeholder to a credential host here, with an absolute-form
 * target (`GET https://api.example.com:443/v1/x`), after its own policy and
 * DLP checks. The broker checks the destination against the credential's
 * hosts (its own egress is limited to them), swaps placeholders for real
 * values (or re-signs SigV4), resolves the host itself, sends the request
 * upstream over TLS verified against the system store (plus the extra test
 * CA), and streams the response back with the real values' raw form replaced
 * by the placeholders (same length). Sizes and times are bounded. WebSocket
 * upgrades (the `upgrade` event) pass the same checks and swap; after the
 * upstream's 101 the sockets are piped, the upstream's frames scrubbed of
 * real values.
 */
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { chmodSync } from 'node:fs';
import { Agent as HttpAgent, createServer, request, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as tlsRequest } from 'node:https';
import { BlockList, isIP, type Socket } from 'node:net';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { DecisionEvent } from '../audit/record.js';
import { formatAuthority, formatHost, hostFromUrl } from '../egress/hostname.js';
import { forwardHeaders } from '../egress/headers.js';
import type { CanonicalHost } from '../policy/types.js';
import { hostMatches } from './hosts.js';
import { ResponseRedactor, StreamScrubber } from './redact-stream.js';
import { ChunkResigner } from './aws-chunked.js';
import { headerValue, resign, resignPresigned } from './sigv4.js';
import { swapCredentials, type AwsPair, type Destination, type HeldCredential } from './swap.js';

export interface BrokerLimits {
  /** Largest request body (default 64 MiB); bodies hashed for SigV4 are held up to `maxHeldBody`. */
  readonly maxRequestBody: number;
  readonly maxHeldBody: number;
  readonly maxResponseBody: number;
  readonly idleTimeoutMs: number;
  readonly totalTimeoutMs: number;
}

/** How long a WebSocket's server-side tail that could begin a real value waits for the next read before it is sent as is. */
const SCRUB_HOLD_MS = 50;

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxRequestBody: 64 * 1024 * 1024, maxHeldBody: 16 * 1024 * 1024, maxResponseBody: 256 * 1024 * 1024, idleTimeoutMs: 120_000, totalTimeoutMs: 600_000,
};

export interface BrokerOptions {
  readonly socketPath: string;
  readonly credentials: readonly HeldCredential[];
  readonly aws?: AwsPair;
  readonly upstreamCa?: string;
  readonly publish: (e: DecisionEvent) => void;
  readonly limits?: Partial<BrokerLimits>;
  /** Name resolution (default: the system's); tests pass their own. */
  readonly resolve?: (host: string) => Promise<{ address: string; family: 4 | 6 }[]>;
}

export interface RunningBroker {
  readonly server: Server;
  close(): Promise<void>;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');
const metadata = new BlockList();
metadata.addSubnet('169.254.0.0', 16, 'ipv4');
metadata.addSubnet('fe80::', 10, 'ipv6');
metadata.addAddress('fd00:ec2::254', 'ipv6');

async function systemResolve(host: string): Promise<{ address: string; family: 4 | 6 }[]> {
  const all = await lookup(host, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

function refuse(res: ServerResponse, status: number, reason: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(`cordon credential broker: ${reason}\nThis is a security policy, not a network fault; do not retry around it.\n`, 'utf8');
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, 'x-cordon-decision': 'deny', 'x-cordon-rule': 'credential broker', connection: 'close' });
  res.end(body);
}

/** `refuse` for a connection that asked to upgrade (no ServerResponse): the same answer, written raw, then closed. */
function refuseSocket(socket: Socket, status: number, reason: string): void {
  const body = Buffer.from(`cordon credential broker: ${reason}\nThis is a security policy, not a network fault; do not retry around it.\n`, 'utf8');
  const text = STATUS_CODES[status] ?? 'Error';
  if (socket.writable) socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nx-cordon-decision: deny\r\nx-cordon-rule: credential broker\r\nconnection: close\r\n\r\n`, 'latin1'), body]));
  socket.destroySoon();
}

interface Prepared {
  readonly dest: Destination;
  readonly target: string;
  readonly subject: string;
  readonly rule: string;
  readonly swapped: Extract<ReturnType<typeof swapCredentials>, { ok: true }>;
  readonly addresses: { address: string; family: 4 | 6 }[];
  /** The swapped headers, hop-by-hop removed, Host set. */
  readonly headers: string[];
}

export async function startBroker(o: BrokerOptions): Promise<RunningBroker> {
  const limits: BrokerLimits = { ...DEFAULT_BROKER_LIMITS, ...o.limits };
  const ca = [...rootCertificates, ...(o.upstreamCa === undefined ? [] : [o.upstreamCa])];
  const plainAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const resolve = o.resolve ?? systemResolve;
  /**
   * The verified-TLS context of every upstream connection, made once on first use: building it from the roots
   * costs ~50 ms, which an agent given `ca` pays again for each new connection.
   */
  let verifiedContext: SecureContext | undefined;
  const upgradeTls = (): SecureContext => (verifiedContext ??= createSecureContext({ ca }));
  let tlsAgentMade: HttpsAgent | undefined;
  const tlsAgent = (): HttpsAgent => (tlsAgentMade ??= new HttpsAgent({ keepAlive: true, maxSockets: 64, secureContext: upgradeTls() }));
  const creds = o.credentials;

  function record(subject: string, decision: 'allow' | 'deny', rule: string, reason: string): void {
    o.publish({ boundary: 'broker', subject, decision, rule, reason });
  }

  /** The checks every brokered request and upgrade passes: target, the credentials' hosts, the swap, name resolution. Refusals are recorded. */
  async function prepare(req: IncomingMessage, method: string): Promise<Prepared | { status: number; reason: string }> {
    let dest: Destination;
    let target: string;
    try {
      const url = req.url ?? '';
      const t = hostFromUrl(url);
      if (t.scheme !== 'https' && t.scheme !== 'http') throw new Error('scheme');
      const u = new URL(url);
      dest = { host: t.host, port: t.port, tls: t.scheme === 'https' };
      target = `${u.pathname}${u.search}`;
    } catch {
      record(`Http(${method} ?)`, 'deny', 'credential broker', 'The broker was sent a request without an absolute http(s) target; refused.');
      return { status: 400, reason: 'malformed request target' };
    }
    const authority = formatAuthority(dest.host, dest.port);
    const subject = `Http(${method} ${authority}${target.split('?')[0] ?? ''})`;
    const anyHost = creds.some((c) => hostMatches(c.hosts, dest.host, dest.port, dest.tls));
    if (!anyHost) {
      record(subject, 'deny', 'credential broker: hosts', `${authority} is not one of the hosts of any credential; the broker sends nothing there.`);
      return { status: 403, reason: `${authority} is not a credential host` };
    }
    const swapped = swapCredentials(req.rawHeaders, dest, creds, o.aws, target);
    if (!swapped.ok) {
      record(subject, 'deny', 'credential broker', `${swapped.reason}; refused.`);
      return { status: 403, reason: swapped.reason };
    }
    const rule = `credentials ${swapped.used.join(', ')}`;
    const addresses = await resolveChecked(dest.host, dest.tls).catch((e: unknown) => (e instanceof Error ? e.message : 'resolution failed'));
    if (typeof addresses === 'string') {
      record(subject, 'deny', rule, `${addresses}; refused.`);
      return { status: 502, reason: addresses };
    }
    const hostHeader = dest.port === (dest.tls ? 443 : 80) ? formatHost(dest.host) : authority;
    return { dest, target, subject, rule, swapped, addresses, headers: forwardHeaders(swapped.headers, hostHeader) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const p = await prepare(req, method);
    if (!('dest' in p)) {
      refuse(res, p.status, p.reason);
      return;
    }
    const { dest, subject, rule, swapped, addresses } = p;
    let { target, headers } = p;
    /** The request body: streamed, or held (SigV4 without a declared payload hash), or re-signed chunk by chunk. */
    let held: Buffer | undefined;
    let resigner: ChunkResigner | undefined;
    if ((swapped.sigv4 !== undefined || swapped.presigned !== undefined) && o.aws !== undefined) {
      const presigned = swapped.presigned;
      const needsBody = presigned === undefined
        ? headerValue(headers, 'x-amz-content-sha256') === undefined
        : presigned.service !== 's3' && !/[?&]X-Amz-Content-Sha256=/i.test(target) && headerValue(headers, 'x-amz-content-sha256') === undefined;
      if (needsBody) {
        held = await readBounded(req, limits.maxHeldBody).catch(() => undefined);
        if (held === undefined) {
          record(subject, 'deny', rule, `The SigV4 request body is larger than ${limits.maxHeldBody} bytes (and has no x-amz-content-sha256); refused.`);
          refuse(res, 413, 'body too large to sign');
          return;
        }
      }
      const bodyHash = (): string => createHash('sha256').update(held ?? Buffer.alloc(0)).digest('hex');
      const real = { accessKeyId: o.aws.keyId.real, secret: o.aws.secret.real };
      if (presigned !== undefined) {
        const r = resignPresigned(method, target, headers, presigned, real, bodyHash);
        if (!r.ok) {
          record(subject, 'deny', rule, `${r.reason}; refused.`);
          refuse(res, 400, r.reason);
          return;
        }
        target = r.target;
      } else if (swapped.sigv4 !== undefined) {
        const r = resign(method, target, headers, swapped.sigv4, real, bodyHash);
        if (!r.ok) {
          record(subject, 'deny', rule, `${r.reason}; refused.`);
          refuse(res, 400, r.reason);
          return;
        }
        headers = setHeader(headers, 'authorization', r.authorization);
        if (r.chunks !== undefined) resigner = new ChunkResigner({ ...r.chunks, maxChunk: limits.maxHeldBody });
      }
    }
    record(subject, 'allow', rule, `The placeholder${swapped.used.length === 1 ? '' : 's'} of ${swapped.used.join(', ')} ${swapped.presigned !== undefined ? 're-signed (SigV4 presigned URL) with the real key' : swapped.sigv4 === undefined ? 'replaced by the real value' : resigner !== undefined ? 're-signed (SigV4, every chunk of the aws-chunked body) with the real key' : 're-signed (SigV4) with the real key'} for a host the credential is scoped to.`);
    send(req, res, held, { dest, addresses, method, target, headers, subject, ...(resigner === undefined ? {} : { resigner }) });
  }

  async function resolveChecked(host: CanonicalHost, tls: boolean): Promise<{ address: string; family: 4 | 6 }[]> {
    const list = host.type === 'dns' ? await resolve(host.name) : [{ address: host.name, family: host.type === 'ipv6' ? 6 as const : 4 as const }];
    if (list.length === 0) throw new Error(`${host.name} did not resolve`);
    for (const a of list) {
      const type = isIP(a.address) === 6 ? 'ipv6' : 'ipv4';
      if (metadata.check(a.address, type)) throw new Error(`${host.name} resolves to a link-local/metadata address`);
      if (!tls && !loopback.check(a.address, type)) throw new Error(`a real credential is sent in clear text only to loopback; ${host.name} is not (use https)`);
    }
    return list;
  }

  function send(req: IncomingMessage, res: ServerResponse, held: Buffer | undefined, r: { dest: Destination; addresses: { address: string; family: 4 | 6 }[]; method: string; target: string; headers: string[]; subject: string; resigner?: ChunkResigner }): void {
    const first = r.addresses[0];
    if (first === undefined) return;
    const common = { host: first.address, family: first.family, port: r.dest.port, method: r.method, path: r.target, headers: r.headers, setHost: false };
    const servername = r.dest.host.type === 'dns' ? r.dest.host.name : undefined;
    const up = r.dest.tls ? tlsRequest({ ...common, agent: tlsAgent(), ...(servername === undefined ? {} : { servername }) }) : request({ ...common, agent: plainAgent });
    let done = false;
    const total = setTimeout(() => fail(504, `the upstream took longer than ${limits.totalTimeoutMs} ms`), limits.totalTimeoutMs);
    function fail(status: number, why: string): void {
      if (done) return;
      done = true;
      clearTimeout(total);
      up.destroy();
      o.publish({ boundary: 'broker', subject: r.subject, decision: 'deny', rule: 'credential broker: upstream', reason: `${why}.` });
      refuse(res, status, why);
    }
    up.setTimeout(limits.idleTimeoutMs, () => fail(504, `the upstream sent nothing for ${limits.idleTimeoutMs} ms`));
    up.on('error', (e: NodeJS.ErrnoException) => fail(502, `the upstream connection failed (${e.code ?? 'error'})`));
    res.on('close', () => {
      if (!res.writableFinished && !done) {
        done = true;
        clearTimeout(total);
        up.destroy();
      }
    });
    up.on('response', (upRes) => {
      // Response headers too: a server that echoes the credential in a header gets the placeholder back to the agent.
      const echoed = forwardHeaders(upRes.rawHeaders).map((v) => creds.reduce((acc, c) => acc.split(c.real).join(c.placeholder), v));
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage ?? '', echoed);
      const redactor = new ResponseRedactor(creds.map((c) => [c.real, c.placeholder] as const));
      let bytes = 0;
      upRes.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > limits.maxResponseBody) {
          done = true;
          clearTimeout(total);
          up.destroy();
          res.destroy();
          return;
        }
        if (!res.write(redactor.push(chunk))) upRes.pause();
      });
      res.on('drain', () => upRes.resume());
      upRes.on('end', () => {
        done = true;
        clearTimeout(total);
        res.end(redactor.end());
      });
      upRes.on('error', () => {
        done = true;
        clearTimeout(total);
        res.destroy();
      });
    });
    if (held !== undefined) {
      up.end(held);
      return;
    }
    let size = 0;
    // A chunk-signed body goes through the re-signer: only whole, re-signed chunks reach the upstream.
    const source = r.resigner === undefined ? req : req.pipe(r.resigner);
    source.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limits.maxRequestBody) {
        source.pause();
        fail(413, `the request body is larger than ${limits.maxRequestBody} bytes`);
        return;
      }
      if (!up.write(c)) source.pause();
    });
    up.on('drain', () => source.resume());
    source.on('end', () => up.end());
    req.on('error', () => up.destroy());
    r.resigner?.on('error', (e) => fail(400, `the aws-chunked body cannot be re-signed: ${e.message}; the upload was aborted`));
  }

  /**
   * A WebSocket upgrade from the proxy: the same checks and swap as a request
   * (SigV4 is not re-signed here: refused), the upgrade sent upstream, the
   * upstream's 101 head written back and the two sockets piped. The proxy
   * still scans every client frame before it reaches this socket.
   */
  async function handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const method = req.method ?? 'GET';
    if (method !== 'GET' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      record(`Http(${method} ?)`, 'deny', 'credential broker', 'The broker was sent an upgrade that is not a WebSocket GET; refused.');
      refuseSocket(socket, 400, 'only WebSocket upgrades are brokered');
      return;
    }
    const p = await prepare(req, method);
    if (!('dest' in p)) {
      refuseSocket(socket, p.status, p.reason);
      return;
    }
    if (p.swapped.sigv4 !== undefined || p.swapped.presigned !== undefined) {
      record(p.subject, 'deny', p.rule, 'A SigV4-signed WebSocket upgrade is not re-signed by the broker; refused.');
      refuseSocket(socket, 400, 'SigV4-signed WebSocket upgrades are not re-signed');
      return;
    }
    const headers = [...p.headers, 'Connection', 'Upgrade', 'Upgrade', 'websocket'];
    const first = p.addresses[0];
    if (first === undefined) {
      refuseSocket(socket, 502, 'no address');
      return;
    }
    record(p.subject, 'allow', p.rule, `The placeholder${p.swapped.used.length === 1 ? '' : 's'} of ${p.swapped.used.join(', ')} replaced by the real value in a WebSocket upgrade to a host the credential is scoped to.`);
    const common = { host: first.address, family: first.family, port: p.dest.port, method, path: p.target, headers, setHost: false, agent: false as const };
    const servername = p.dest.host.type === 'dns' ? p.dest.host.name : undefined;
    // `secureContext` is passed on to tls.connect (not in https.RequestOptions' type, hence the variable).
    const tlsOptions = { ...common, secureContext: upgradeTls(), ...(servername === undefined ? {} : { servername }) };
    const up = p.dest.tls ? tlsRequest(tlsOptions) : request(common);
    let done = false;
    const fail = (status: number, why: string): void => {
      if (done) return;
      done = true;
      up.destroy();
      o.publish({ boundary: 'broker', subject: p.subject, decision: 'deny', rule: 'credential broker: upstream', reason: `${why}.` });
      refuseSocket(socket, status, why);
    };
    up.setTimeout(limits.idleTimeoutMs, () => fail(504, `the upstream sent nothing for ${limits.idleTimeoutMs} ms`));
    up.on('error', (e: NodeJS.ErrnoException) => fail(502, `the upstream connection failed (${e.code ?? 'error'})`));
    socket.once('close', () => {
      if (!done) {
        done = true;
        up.destroy();
      }
    });
    const redact = (v: string): string => creds.reduce((acc, c) => acc.split(c.real).join(c.placeholder), v);
    const headText = (code: number, message: string, raw: readonly string[]): string => {
      let text = `HTTP/1.1 ${code} ${message.replace(/[^\x20-\x7e]/g, '')}\r\n`;
      for (let i = 0; i + 1 < raw.length; i += 2) text += `${raw[i] ?? ''}: ${redact(raw[i + 1] ?? '')}\r\n`;
      return text;
    };
    up.on('response', (upRes) => {
      // Not upgraded: the (bounded, redacted) answer is passed back and the connection closed.
      const chunks: Buffer[] = [];
      let n = 0;
      upRes.on('data', (c: Buffer) => {
        n += c.length;
        if (n <= 64 * 1024) chunks.push(c);
      });
      upRes.on('error', () => fail(502, 'the upstream answer failed'));
      upRes.on('end', () => {
        if (done) return;
        done = true;
        const redactor = new ResponseRedactor(creds.map((c) => [c.real, c.placeholder] as const));
        const body = Buffer.concat([redactor.push(Buffer.concat(chunks)), redactor.end()]);
        const h = forwardHeaders(upRes.rawHeaders).filter((_, i, arr) => (arr[i - (i % 2)] ?? '').toLowerCase() !== 'content-length');
        socket.end(Buffer.concat([Buffer.from(`${headText(upRes.statusCode ?? 502, upRes.statusMessage ?? '', h)}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`, 'latin1'), body]));
      });
    });
    up.on('upgrade', (upRes: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
      if (done || socket.destroyed) {
        upSocket.destroy();
        return;
      }
      done = true;
      upSocket.setTimeout(0);
      upSocket.on('error', () => socket.destroy());
      socket.on('close', () => upSocket.destroy());
      // After the upstream's end the scrubbed tail is still being written: only an abrupt close cuts the client at once.
      upSocket.on('close', () => {
        if (!socket.writableEnded) socket.destroy();
      });
      socket.write(`${headText(101, upRes.statusMessage ?? 'Switching Protocols', upRes.rawHeaders)}\r\n`, 'latin1');
      // Server frames are unmasked: a real value echoed in them is replaced by its placeholder (same length, framing intact);
      // a tail that could begin one waits for the next read, at most SCRUB_HOLD_MS.
      const scrubber = new StreamScrubber(creds.map((c) => [c.real, c.placeholder] as const));
      let flushTimer: NodeJS.Timeout | undefined;
      const toClient = (c: Buffer): boolean => {
        clearTimeout(flushTimer);
        const ok = socket.write(scrubber.push(c));
        if (scrubber.pending > 0) flushTimer = setTimeout(() => socket.write(scrubber.flush()), SCRUB_HOLD_MS);
        return ok;
      };
      if (upHead.length > 0) toClient(Buffer.from(upHead));
      if (head.length > 0) upSocket.write(head);
      upSocket.on('data', (c: Buffer) => {
        if (!toClient(c)) upSocket.pause();
      });
      socket.on('drain', () => upSocket.resume());
      upSocket.on('end', () => {
        clearTimeout(flushTimer);
        socket.end(scrubber.flush());
      });
      socket.on('close', () => clearTimeout(flushTimer));
      socket.pipe(upSocket);
    });
    up.end();
  }

  const server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    handle(req, res).catch(() => refuse(res, 500, 'internal error (denied)'));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    handleUpgrade(req, socket, head).catch(() => refuseSocket(socket, 500, 'internal error (denied)'));
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 0;
  await new Promise<void>((ok, bad) => {
    server.once('error', bad);
    server.listen(o.socketPath, () => ok());
  });
  chmodSync(o.socketPath, 0o600);
  return {
    server,
    close: () => new Promise<void>((ok) => {
      tlsAgentMade?.destroy();
      plainAgent.destroy();
      server.close(() => ok());
      server.closeAllConnections();
    }),
  };
}

function setHeader(raw: readonly string[], name: string, value: string): string[] {
  const out: string[] = [];
  let set = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] ?? '').toLowerCase() === name) {
      if (!set) out.push(raw[i] ?? name, value);
      set = true;
    } else {
      out.push(raw[i] ?? '', raw[i + 1] ?? '');
    }
  }
  if (!set) out.push(name, value);
  return out;
}

function readBounded(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((ok, bad) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.destroy();
        bad(new Error('too large'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => ok(Buffer.concat(chunks)));
    req.on('error', bad);
  });
}
