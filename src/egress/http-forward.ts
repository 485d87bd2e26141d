/**
 * Plain HTTP forwarding (absolute-form requests). The request target is
 * canonicalised, decided as an `Http(...)` subject, resolved and checked by
 * the gate, scanned, and sent to the exact checked address with the parsed
 * and normalised path; the Host header is rewritten to the target.
 */
import { formatSubject } from '../policy/subject-format.js';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { request as tlsRequest } from 'node:https';
import { brokerUpstream } from '../broker/proxy-route.js';
import { isCordonError } from '../errors.js';
import { BodyHold } from './approval-hold.js';
import type { ProxyContext } from './context.js';
import { scan } from './context.js';
import { forwardHeaders, rawHeader } from './headers.js';
import { formatAuthority, formatHost, hostFromUrl } from './hostname.js';
import type { Refusal } from './refusal.js';
import { refusalBody, refusalHeaders } from './refusal.js';
import { NOOP_SCANNER, type ScanContext } from './scanner.js';

/** Sends a refusal on a response not yet started; closes the connection when the request body was not read. */
export function sendRefusal(res: ServerResponse, r: Refusal, close: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(refusalBody(r), 'utf8');
  const headers = refusalHeaders(r, body.length);
  if (close) headers.push('Connection', 'close');
  res.writeHead(r.status, headers);
  res.end(body);
  if (close) res.once('finish', () => res.socket?.destroySoon());
}

export function malformed(subject: string, reason: string, status = 400): Refusal {
  return { kind: 'malformed', status, subject, rule: 'proxy protocol', reason, mandatory: false };
}

export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

export async function handleHttpRequest(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rawUrl = req.url ?? '';
  const method = req.method ?? 'GET';
  const bodyPending = hasBody(req);
  if (!/^http:\/\//i.test(rawUrl)) {
    const why = /^https:\/\//i.test(rawUrl)
      ? 'https:// URLs must go through a CONNECT tunnel (set HTTPS_PROXY); the proxy does not originate TLS for plain requests.'
      : 'This is cordon\'s egress proxy: send absolute-form requests (GET http://host/path) or CONNECT.';
    sendRefusal(res, malformed(`Http(${method} ?)`, why), true);
    return;
  }
  let target: ReturnType<typeof hostFromUrl>;
  let path: string;
  try {
    target = hostFromUrl(rawUrl);
    const u = new URL(rawUrl);
    path = `${u.pathname}${u.search}`;
  } catch (e) {
    const why = isCordonError(e) ? e.message : 'The request URL could not be parsed.';
    const r = malformed(`Http(${method} ?)`, `${why} Refused.`);
    ctx.gate.record(r);
    sendRefusal(res, r, true);
    return;
  }
  await scanDecideForward(ctx, req, res, { method, host: target.host, port: target.port, path, scheme: 'http', bodyPending });
}

/** One HTTP request whose target is known: plain (absolute form) or inside an inspected TLS tunnel. */
export interface HttpTarget {
  readonly method: string;
  readonly host: Parameters<typeof formatHost>[0];
  readonly port: number;
  /** Path and query. */
  readonly path: string;
  readonly scheme: 'http' | 'https';
  readonly bodyPending: boolean;
  /** Upstream TLS (inspected tunnels only). */
  readonly tls?: { readonly servername: string | undefined };
}

/**
 * Scans the URL and headers, decides (holding the body when a person is
 * asked), then forwards. The scan comes first: before the policy resolves the
 * name (an encoded secret in a label never becomes a DNS query) and before a
 * person is asked about the request.
 */
export async function scanDecideForward(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, t: HttpTarget): Promise<void> {
  const { method, host, port, path } = t;
  const authority = port === (t.scheme === 'http' ? 80 : 443) ? formatHost(host) : formatAuthority(host, port);
  const headers = forwardHeaders(req.rawHeaders, authority);
  const subject = { kind: 'Http', method, host, port, path } as const;
  // One scan context for the whole request: the credential route is keyed by it.
  const sc: ScanContext = { subject: formatSubject(subject), method, host: authority, port };
  const found = (await scan(ctx, sc, (s) => s.url(sc, `${t.scheme}://${authority}${path}`))) ?? (await scan(ctx, sc, (s) => s.headers(sc, headers)));
  if (found !== undefined) {
    sendRefusal(res, found, t.bodyPending);
    return;
  }
  // An `ask` held for a person reads the whole body first (its hash is what is approved) and replays it.
  const hold = new BodyHold(req, ctx.limits.maxScannedBodyBytes);
  const verdict = await ctx.gate.check(subject, (s) => hold.read(s));
  if (hold.held) req.socket.setTimeout(ctx.limits.idleTimeoutMs);
  if (!verdict.ok) {
    sendRefusal(res, verdict.refusal, t.bodyPending && !hold.held);
    return;
  }
  const first = verdict.addresses[0];
  if (first === undefined) return;
  forward(ctx, hold.held ? hold.replay() : req, res, { address: first.address, family: first.family, port, method, path, headers, sc, ...(t.tls === undefined ? {} : { tls: t.tls }) });
}

export interface Outbound {
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
  readonly method: string;
  readonly path: string;
  readonly headers: string[];
  readonly sc: ScanContext;
  /** Upstream over TLS (inspected tunnels): verified against the proxy's roots for `servername` (absent for IP hosts: the address is checked). */
  readonly tls?: { readonly servername: string | undefined };
}

export function forward(ctx: ProxyContext, req: Readable, res: ServerResponse, o: Outbound): void {
  const { limits } = ctx;
  const common = { host: o.address, family: o.family, port: o.port, method: o.method, path: o.path, headers: o.headers, setHost: false };
  // A request carrying a credential placeholder where it belongs goes to the credential broker instead (src/broker/proxy-route.ts).
  const upstream = brokerUpstream(ctx, o) ?? (o.tls === undefined || ctx.tls === undefined
    ? request({ ...common, agent: ctx.agent })
    : tlsRequest({ ...common, agent: ctx.tls.agent, ...(o.tls.servername === undefined ? {} : { servername: o.tls.servername }) }));
  let done = false;
  const total = setTimeout(() => fail(upstreamRefusal(o, `The request took longer than ${limits.totalTimeoutMs} ms.`, 504)), limits.totalTimeoutMs);
  const finish = (): void => {
    done = true;
    clearTimeout(total);
  };
  function fail(r: Refusal): void {
    if (done) return;
    finish();
    upstream.destroy();
    if (r.kind === 'dlp' || r.kind === 'limit') ctx.gate.record(r);
    sendRefusal(res, r, true);
  }
  upstream.setTimeout(limits.idleTimeoutMs, () => fail(upstreamRefusal(o, `The upstream server sent nothing for ${limits.idleTimeoutMs} ms.`, 504)));
  upstream.on('error', (e: NodeJS.ErrnoException) => fail(upstreamRefusal(o, `The upstream connection failed (${e.code ?? e.message}).`, 502)));
  res.on('close', () => {
    if (!res.writableFinished && !done) {
      finish();
      upstream.destroy();
    }
  });
  upstream.on('response', (up) => {
    const headers = forwardHeaders(up.rawHeaders);
    res.writeHead(up.statusCode ?? 502, up.statusMessage ?? '', headers);
    let bytes = 0;
    up.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limits.maxResponseBodyBytes) {
        ctx.log(`response body over ${limits.maxResponseBodyBytes} bytes from ${o.sc.subject}; connection cut`);
        finish();
        upstream.destroy();
        res.destroy();
        return;
      }
      if (!res.write(chunk)) up.pause();
    });
    res.on('drain', () => up.resume());
    up.on('end', () => {
      finish();
      res.end();
    });
    up.on('error', () => {
      finish();
      res.destroy();
    });
  });
  pumpRequestBody(ctx, req, upstream, o, fail);
}

function upstreamRefusal(o: Outbound, reason: string, status: number): Refusal {
  return { kind: 'upstream', status, subject: o.sc.subject, rule: 'upstream', reason, mandatory: false };
}

/**
 * Request body to upstream. Without DLP it streams. With DLP every chunk is
 * scanned as it arrives but held back; only when the whole body scanned clean
 * is it written, so a finding anywhere means the upstream receives no byte of
 * the body (its headers are not sent either: Node sends them with the body).
 */
function pumpRequestBody(ctx: ProxyContext, req: Readable, upstream: ReturnType<typeof request>, o: Outbound, fail: (r: Refusal) => void): void {
  const limit = ctx.limits.maxRequestBodyBytes;
  const scanLimit = Math.min(limit, ctx.limits.maxScannedBodyBytes);
  const encoding = rawHeader(o.headers, 'content-encoding');
  let bytes = 0;
  let failed = false;
  const held: Buffer[] = [];
  let chain: Promise<void> = Promise.resolve();
  const refuse = (r: Refusal): void => {
    if (failed) return;
    failed = true;
    held.length = 0;
    req.pause();
    fail(r);
  };
  const tooBig = (bound: number, why: string): Refusal => ({ kind: 'limit', status: 413, subject: o.sc.subject, rule: why, reason: `The request body is larger than ${bound} bytes; nothing more was sent.`, mandatory: false });
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    bytes += chunk.length;
    if (bytes > limit) return refuse(tooBig(limit, 'limit maxRequestBodyBytes'));
    if (ctx.scanner === NOOP_SCANNER) {
      if (!upstream.write(chunk)) req.pause();
      return;
    }
    if (bytes > scanLimit) {
      return refuse({ ...tooBig(scanLimit, 'limit maxScannedBodyBytes'), reason: `The request body is larger than ${scanLimit} bytes, the most the DLP scanner holds; nothing was sent.` });
    }
    held.push(chunk);
    req.pause();
    chain = chain.then(async () => {
      if (failed) return;
      const r = await scan(ctx, o.sc, (s) => s.bodyChunk(o.sc, chunk, encoding));
      if (r !== undefined) return refuse(r);
      req.resume();
    });
  });
  upstream.on('drain', () => {
    if (ctx.scanner === NOOP_SCANNER) req.resume();
  });
  req.on('end', () => {
    chain = chain.then(async () => {
      if (failed) return;
      const r = await scan(ctx, o.sc, (s) => s.bodyEnd(o.sc));
      if (r !== undefined) return refuse(r);
      for (const c of held.splice(0)) upstream.write(c);
      upstream.end();
    });
  });
  req.on('error', () => upstream.destroy());
}
