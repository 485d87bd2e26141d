/**
 * The broker's HTTP server on a Unix socket. The proxy sends each request
 * that carries a placeholder to a credential host here, with an absolute-form
 * target (`GET https://api.example.com:443/v1/x`), after its own policy and
 * DLP checks. The broker checks the destination against the credential's
 * hosts (its own egress is limited to them), swaps placeholders for real
 * values (or re-signs SigV4), resolves the host itself, sends the request
 * upstream over TLS verified against the system store (plus the extra test
 * CA), and streams the response back with the real values' raw form replaced
 * by the placeholders (same length). Sizes and times are bounded.
 */
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { chmodSync } from 'node:fs';
import { Agent as HttpAgent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as tlsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { DecisionEvent } from '../audit/record.js';
import { formatAuthority, formatHost, hostFromUrl } from '../egress/hostname.js';
import { forwardHeaders } from '../egress/headers.js';
import type { CanonicalHost } from '../policy/types.js';
import { hostMatches } from './hosts.js';
import { ResponseRedactor } from './redact-stream.js';
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

export async function startBroker(o: BrokerOptions): Promise<RunningBroker> {
  const limits: BrokerLimits = { ...DEFAULT_BROKER_LIMITS, ...o.limits };
  const ca = [...rootCertificates, ...(o.upstreamCa === undefined ? [] : [o.upstreamCa])];
  const tlsAgent = new HttpsAgent({ keepAlive: true, ca, maxSockets: 64 });
  const plainAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const resolve = o.resolve ?? systemResolve;
  const creds = o.credentials;

  function record(subject: string, decision: 'allow' | 'deny', rule: string, reason: string): void {
    o.publish({ boundary: 'broker', subject, decision, rule, reason });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
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
      refuse(res, 400, 'malformed request target');
      return;
    }
    const authority = formatAuthority(dest.host, dest.port);
    const subject = `Http(${method} ${authority}${target.split('?')[0] ?? ''})`;
    const anyHost = creds.some((c) => hostMatches(c.hosts, dest.host, dest.port, dest.tls));
    if (!anyHost) {
      record(subject, 'deny', 'credential broker: hosts', `${authority} is not one of the hosts of any credential; the broker sends nothing there.`);
      refuse(res, 403, `${authority} is not a credential host`);
      return;
    }
    const swapped = swapCredentials(req.rawHeaders, dest, creds, o.aws, target);
    if (!swapped.ok) {
      record(subject, 'deny', 'credential broker', `${swapped.reason}; refused.`);
      refuse(res, 403, swapped.reason);
      return;
    }
    const rule = `credentials ${swapped.used.join(', ')}`;
    const addresses = await resolveChecked(dest.host, dest.tls).catch((e: unknown) => (e instanceof Error ? e.message : 'resolution failed'));
    if (typeof addresses === 'string') {
      record(subject, 'deny', rule, `${addresses}; refused.`);
      refuse(res, 502, addresses);
      return;
    }
    const hostHeader = dest.port === (dest.tls ? 443 : 80) ? formatHost(dest.host) : authority;
    let headers = forwardHeaders(swapped.headers, hostHeader);
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
    const up = r.dest.tls ? tlsRequest({ ...common, agent: tlsAgent, ...(servername === undefined ? {} : { servername }) }) : request({ ...common, agent: plainAgent });
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

  const server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    handle(req, res).catch(() => refuse(res, 500, 'internal error (denied)'));
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
      tlsAgent.destroy();
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
