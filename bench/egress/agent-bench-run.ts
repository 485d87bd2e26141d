/**
 * The agent-egress-bench runner proper, loaded by agent-bench.ts once it runs
 * inside its private network namespace (see there for the setup, the policy
 * and the verdict rules): loopback addresses, upstreams, the proxy, one client
 * per case, the judgement from both ends, and the report.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, isIP, isIPv4, type Socket } from 'node:net';
import path from 'node:path';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import type { DecisionEvent } from '../../src/audit/record.js';
import { createRequestScanner } from '../../src/dlp/index.js';
import { startProxy, type RunningProxy } from '../../src/egress/proxy-server.js';
import type { Resolver } from '../../src/egress/resolver.js';
import { SessionCa } from '../../src/egress/tls-ca.js';
import { closeFrame, encodeFrame, FrameReader, OPCODE } from '../../src/egress/ws-frame.js';
import { rulesPolicy } from '../../src/policy/test-helpers.js';
import { loadCases, notApplicable, type BenchCase, type Verdict, type WsFrameSpec } from './agent-bench-cases.js';

/** The one address every name resolves to; it exists only on the private namespace's loopback. */
export const UPSTREAM_V4 = '45.1.2.3';
const CASE_TIMEOUT_MS = 5000;
const UPSTREAM_ANSWER = 'upstream ok\n';
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const args = process.argv.slice(2);
const JSON_OUT = args.includes('--json');
/** Tunnels stay opaque (no TLS inspection), to see what inspection buys; the client then trusts the upstream CA directly. */
const OPAQUE = args.includes('--no-inspect');
const casesArg = args.indexOf('--cases');
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ROOT = path.resolve(casesArg >= 0 ? (args[casesArg + 1] ?? '') : (process.env.AGENT_EGRESS_BENCH ?? path.join(REPO, '..', 'shared', 'benchmarks', 'agent-egress-bench')));

// ---------------------------------------------------------------- namespace


/** The address an IP-literal URL host names (WHATWG-parsed: 0x7f000001 -> 127.0.0.1; IPv4-mapped IPv6 -> its IPv4), or undefined for names. */
function literalAddress(url: string): { address: string; family: 4 | 6 } | undefined {
  const host = new URL(url).hostname;
  if (isIPv4(host)) return { address: host, family: 4 };
  if (!host.startsWith('[')) return undefined;
  const v6 = host.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(v6);
  if (mapped !== null) {
    const hi = parseInt(mapped[1] ?? '0', 16);
    const lo = parseInt(mapped[2] ?? '0', 16);
    return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: 4 };
  }
  return { address: v6, family: 6 };
}

function setUpLoopback(cases: readonly BenchCase[]): string[] {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const added = new Set<string>([UPSTREAM_V4]);
  for (const c of cases) {
    if (c.payload.kind === 'other') continue;
    const a = literalAddress(c.payload.url);
    if (a === undefined) continue;
    if (a.family === 4 && (a.address.startsWith('127.') || a.address === '0.0.0.0')) continue;
    if (a.family === 6 && a.address === '::1') continue;
    added.add(a.address);
  }
  for (const a of added) execFileSync('ip', ['addr', 'add', `${a}/${isIPv4(a) ? 32 : 128}`, 'dev', 'lo']);
  return [...added];
}

// ---------------------------------------------------------------- upstreams

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: readonly string[];
  readonly body: Buffer;
  /** Received over TLS (an https case must arrive on the TLS upstream). */
  readonly tls: boolean;
}

/** What the upstreams saw during the current case. */
interface Seen {
  connections: number;
  /** Request heads received (a request whose body was then cut still counts: its head left). */
  heads: number;
  requests: Received[];
  upgrades: number;
  frames: { opcode: number; fin: boolean; payload: Buffer }[];
}

const fresh = (): Seen => ({ connections: 0, heads: 0, requests: [], upgrades: 0, frames: [] });
let seen: Seen = fresh();
const upgraded = new Set<Duplex>();

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  seen.heads += 1;
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.rawHeaders, body: Buffer.concat(chunks), tls: 'encrypted' in req.socket });
    res.writeHead(200, { 'content-type': 'text/plain', 'x-bench-upstream': 'yes' });
    res.end(UPSTREAM_ANSWER);
  });
}

function onUpgrade(req: IncomingMessage, socket: Duplex): void {
  seen.upgrades += 1;
  upgraded.add(socket);
  socket.once('close', () => upgraded.delete(socket));
  socket.on('error', () => undefined);
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key'] ?? ''}${GUID}`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const reader = new FrameReader({ masked: true, maxFrameBytes: 1 << 24, deflate: true });
  socket.on('data', (c: Buffer) => {
    reader.push(c);
    for (let x = reader.next(); x.kind === 'frame'; x = reader.next()) {
      if (x.frame.opcode === OPCODE.close) {
        socket.end();
        return;
      }
      seen.frames.push({ opcode: x.frame.opcode, fin: x.frame.fin, payload: x.frame.payload });
    }
  });
}

async function startUpstreams(cases: readonly BenchCase[], ca: SessionCa): Promise<HttpServer[]> {
  const ports = new Map<number, boolean>();
  for (const c of cases) {
    if (c.payload.kind === 'other') continue;
    const u = new URL(c.payload.url);
    const tls = u.protocol === 'https:' || u.protocol === 'wss:';
    ports.set(u.port === '' ? (tls ? 443 : 80) : Number(u.port), tls);
  }
  const servers: HttpServer[] = [];
  for (const [port, tls] of ports) {
    const server: HttpServer = tls
      ? createHttpsServer({
          SNICallback: (name: string, cb: (err: Error | null, ctx?: SecureContext) => void) => {
            ca.contextFor({ type: 'dns', name: name.toLowerCase() }).then((ctx) => cb(null, ctx), (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))));
          },
        })
      : createServer();
    server.on('connection', () => (seen.connections += 1));
    server.on('request', onRequest);
    server.on('upgrade', onUpgrade);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '::', port, ipv6Only: false }, () => resolve());
    });
    servers.push(server);
  }
  return servers;
}

// ---------------------------------------------------------------- clients

interface Outcome {
  /** What the proxy answered: `403 deny <rule>`, `200`, `CONNECT 403 ...`, `ws close 1008 ...`. */
  readonly answer: string;
  readonly refused: boolean;
  readonly rule: string | undefined;
  readonly status: number | undefined;
  readonly body: string;
  readonly error?: string;
}

/** `authority` exactly as written in the URL (case kept), and the path as a WHATWG client sends it. */
function parts(url: string): { scheme: string; authority: string; host: string; port: number; path: string } {
  const u = new URL(url);
  const scheme = u.protocol.slice(0, -1);
  const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(url)?.[1] ?? u.host;
  const tls = scheme === 'https' || scheme === 'wss';
  const port = u.port === '' ? (tls ? 443 : 80) : Number(u.port);
  const host = authority.replace(/:\d+$/, '');
  return { scheme, authority, host, port, path: `${u.pathname}${u.search}` };
}

function readHead(s: Socket | TLSSocket): Promise<{ head: string; rest: Buffer } | undefined> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const on = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      s.off('data', on);
      s.off('close', closed);
      resolve({ head: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end + 4) });
    };
    const closed = (): void => resolve(buf.length === 0 ? undefined : { head: buf.toString('latin1'), rest: Buffer.alloc(0) });
    s.on('data', on);
    s.once('close', closed);
    s.on('error', () => undefined);
  });
}

function headerOf(head: string, name: string): string | undefined {
  const re = new RegExp(`^${name}:\\s*(.*)$`, 'im');
  return re.exec(head)?.[1]?.trim();
}

/** CONNECT through the proxy; the open socket, or the refusal. */
async function tunnel(proxyPort: number, authority: string): Promise<{ socket: Socket } | { refusal: Outcome }> {
  const s = connect({ host: '127.0.0.1', port: proxyPort });
  const authorityWithPort = /:\d+$/.test(authority) ? authority : `${authority}:443`;
  s.write(`CONNECT ${authorityWithPort} HTTP/1.1\r\nHost: ${authorityWithPort}\r\n\r\n`);
  const r = await readHead(s);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(r?.head ?? '')?.[1] ?? '0');
  if (status === 200) return { socket: s };
  s.destroy();
  const rule = r === undefined ? undefined : headerOf(r.head, 'X-Cordon-Rule');
  return { refusal: { answer: `CONNECT ${status === 0 ? 'closed' : status}${rule === undefined ? '' : ` ${rule}`}`, refused: true, rule, status, body: '' } };
}

function secure(socket: Socket, host: string, ca: string): TLSSocket {
  return tlsConnect({ socket, ca, ...(isIP(host.replace(/^\[|\]$/g, '')) === 0 ? { servername: host } : {}) });
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(onTimeout()), ms)))]).finally(() => clearTimeout(timer));
}

async function httpCase(proxyPort: number, sessionCa: string, c: { method: string; url: string; headers: readonly (readonly [string, string])[]; body: string | undefined }): Promise<Outcome> {
  const p = parts(c.url);
  const defaultPort = p.scheme === 'https' ? 443 : 80;
  const hostHeader = /:\d+$/.test(p.authority) && p.port !== defaultPort ? p.authority : p.host;
  const headers: Record<string, string> = { Host: hostHeader, Connection: 'close' };
  for (const [k, v] of c.headers) headers[k] = v;
  if (c.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(c.body));
  let socket: TLSSocket | undefined;
  if (p.scheme === 'https') {
    const t = await tunnel(proxyPort, p.authority);
    if ('refusal' in t) return t.refusal;
    socket = secure(t.socket, p.host, sessionCa);
  }
  return new Promise<Outcome>((resolve) => {
    const tls = socket;
    const req = request({
      method: c.method,
      path: tls === undefined ? c.url : p.path,
      headers,
      setHost: false,
      // No agent with createConnection: with `agent: false` Node would build an agent and ignore createConnection.
      ...(tls === undefined ? { host: '127.0.0.1', port: proxyPort, agent: false } : { createConnection: () => tls }),
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const deny = res.headers['x-cordon-decision'] === 'deny';
        const ruleHeader = res.headers['x-cordon-rule'];
        const rule = typeof ruleHeader === 'string' ? ruleHeader : undefined;
        resolve({ answer: `${status}${deny ? ' deny' : ''}${rule === undefined ? '' : ` ${rule}`}`, refused: status === 403 && deny, rule, status, body });
      });
      res.on('error', (e: Error) => resolve({ answer: 'response error', refused: false, rule: undefined, status: res.statusCode, body, error: e.message }));
    });
    req.on('error', (e: Error) => resolve({ answer: `client error: ${e.message}`, refused: false, rule: undefined, status: undefined, body: '', error: e.message }));
    req.end(c.body);
  });
}

const OPCODES: Record<WsFrameSpec['opcode'], number> = { text: OPCODE.text, binary: OPCODE.binary, continuation: OPCODE.continuation };

async function wsCase(proxyPort: number, sessionCa: string, url: string, frames: readonly WsFrameSpec[]): Promise<Outcome> {
  const p = parts(url);
  let s: Socket | TLSSocket;
  let target: string;
  if (p.scheme === 'wss') {
    const t = await tunnel(proxyPort, p.authority);
    if ('refusal' in t) return t.refusal;
    s = secure(t.socket, p.host, sessionCa);
    target = p.path;
  } else {
    s = connect({ host: '127.0.0.1', port: proxyPort });
    target = url;
  }
  s.on('error', () => undefined);
  const hostHeader = p.port === (p.scheme === 'wss' ? 443 : 80) ? p.host : p.authority;
  s.write(`GET ${target} HTTP/1.1\r\nHost: ${hostHeader}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const r = await readHead(s);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(r?.head ?? '')?.[1] ?? '0');
  if (r === undefined || status !== 101) {
    s.destroy();
    const rule = r === undefined ? undefined : headerOf(r.head, 'X-Cordon-Rule');
    const deny = r !== undefined && headerOf(r.head, 'X-Cordon-Decision') === 'deny';
    return { answer: `upgrade ${status}${deny ? ' deny' : ''}${rule === undefined ? '' : ` ${rule}`}`, refused: status === 403 && deny, rule, status, body: '' };
  }
  const reader = new FrameReader({ masked: false, maxFrameBytes: 1 << 20, deflate: false });
  let closeCode: number | undefined;
  let closeReason = '';
  let closed = false;
  const onData = (c: Buffer): void => {
    reader.push(c);
    for (let x = reader.next(); x.kind === 'frame'; x = reader.next()) {
      if (x.frame.opcode === OPCODE.close && x.frame.payload.length >= 2) {
        closeCode = x.frame.payload.readUInt16BE(0);
        closeReason = x.frame.payload.subarray(2).toString();
      }
    }
  };
  s.on('data', onData);
  s.once('close', () => (closed = true));
  if (r.rest.length > 0) onData(r.rest);
  for (const f of frames) {
    if (closed) break;
    s.write(encodeFrame({ opcode: OPCODES[f.opcode], fin: f.fin, rsv1: f.rsv1, payload: f.payload, mask: randomBytes(4) }));
  }
  const t0 = Date.now();
  while (Date.now() - t0 < CASE_TIMEOUT_MS - 500 && seen.frames.length < frames.length && closeCode === undefined && !closed) await new Promise((res) => setTimeout(res, 5));
  const refused = closeCode !== undefined || closed;
  if (!closed) s.end(closeFrame(1000, 'bench done', randomBytes(4)));
  setTimeout(() => s.destroy(), 200).unref();
  const answer = closeCode !== undefined ? `ws close ${closeCode}${closeReason === '' ? '' : ` ${closeReason}`}` : closed ? 'ws connection closed' : 'ws open';
  return { answer, refused, rule: closeReason === '' ? undefined : closeReason, status: 101, body: '' };
}

// ---------------------------------------------------------------- verdicts

export interface CaseResult {
  readonly id: string;
  readonly category: string;
  readonly expected: Verdict;
  readonly actual: Verdict | 'error' | 'not_applicable';
  readonly correct: boolean;
  /** The proxy's answer and what the upstream saw, in one line. */
  readonly evidence: string;
  readonly reason?: string;
  /** The proxy's decision records for the case (`subject decision rule`). */
  readonly decisions?: readonly string[];
  readonly ms?: number;
  /** Names the proxy resolved during the case (in a deployment: DNS queries that left). */
  readonly resolved?: readonly string[];
  /** What the upstreams saw during the case. */
  readonly upstream?: { readonly requests: number; readonly heads: number; readonly connections: number; readonly frames: number };
  /** For refusals: which protection refused (dlp, mandatory deny, no policy rule, address check, WebSocket protocol). */
  readonly blockedBy?: string;
}

/** Which protection a refusal came from, from its rule (X-Cordon-Rule or the WebSocket close). */
function blockedBy(o: Outcome): string {
  const rule = o.rule ?? '';
  if (rule === 'dlp' || /\(DLP\)/.test(rule)) return 'dlp';
  if (rule.includes('mandatory')) return 'mandatory deny';
  if (rule.includes('address check')) return 'address check';
  if (rule === 'default') return 'no allowing rule (IP literals need an exact rule)';
  if (o.answer.startsWith('ws close 1002') || o.answer.startsWith('ws close 1009')) return 'WebSocket protocol';
  return rule === '' ? o.answer : rule;
}

function headerPairs(raw: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = (raw[i] ?? '').toLowerCase();
    m.set(k, [...(m.get(k) ?? []), raw[i + 1] ?? '']);
  }
  return m;
}

/** Differences between what the client sent and what the upstream received (empty: unchanged). */
function changes(c: BenchCase & { payload: { kind: 'http' } }, got: Received): string[] {
  const out: string[] = [];
  const p = parts(c.payload.url);
  if (got.tls !== (p.scheme === 'https')) out.push(got.tls ? 'arrived over TLS' : 'arrived in clear text');
  if (got.method !== c.payload.method) out.push(`method ${got.method}`);
  if (got.url !== p.path) out.push(`path ${got.url}`);
  const h = headerPairs(got.headers);
  for (const [k, v] of c.payload.headers) if (!(h.get(k.toLowerCase()) ?? []).includes(v)) out.push(`header ${k}`);
  if (c.payload.body !== undefined && !got.body.equals(Buffer.from(c.payload.body))) out.push('body');
  return out;
}

function judge(c: BenchCase, o: Outcome, s: Seen): { actual: Verdict | 'error'; evidence: string } {
  if (c.payload.kind === 'ws') {
    const n = c.payload.frames.length;
    const all = s.frames.length >= n && c.payload.frames.every((f, i) => s.frames[i]?.payload.equals(f.payload) === true);
    const evidence = `${o.answer}; upstream got ${s.frames.length}/${n} frames`;
    if (all && !o.refused) return { actual: 'allow', evidence };
    if (all) return { actual: 'allow', evidence: `${evidence} (closed after every frame had left)` };
    if (o.refused) return { actual: 'block', evidence };
    return { actual: 'error', evidence: `${evidence}, no close` };
  }
  if (c.payload.kind !== 'http') return { actual: 'error', evidence: 'not runnable' };
  const evidence = `${o.answer}; upstream: ${s.requests.length} request(s), ${s.heads} head(s), ${s.connections} new connection(s)`;
  const got = s.requests[0];
  if (got !== undefined) {
    const diff = changes({ ...c, payload: c.payload }, got);
    if (o.status !== 200 || o.body !== UPSTREAM_ANSWER) diff.push(`the client did not get the upstream's answer (${o.answer})`);
    return { actual: 'allow', evidence: diff.length === 0 ? evidence : `${evidence}; forwarded changed: ${diff.join(', ')}` };
  }
  if (s.heads > 0) return { actual: 'allow', evidence: `${evidence}: the request head reached the upstream, the body was cut` };
  // A connection without a request byte (the proxy connects before a body is scanned) is reported, not counted as a leak.
  if (o.refused) return { actual: 'block', evidence: s.connections === 0 ? evidence : `${evidence} (connected, sent no request)` };
  return { actual: 'error', evidence: `${evidence}${o.error === undefined ? '' : ` (${o.error})`}` };
}

/** One line on why a case came out wrong (the evidence stays in the JSON). */
function wrongReason(c: BenchCase, j: { actual: Verdict | 'error'; evidence: string }, o: Outcome, changed: boolean): string {
  if (j.actual === 'error') return `no verdict: ${j.evidence}`;
  if (j.actual === 'block') return `false block by ${blockedBy(o)}, ${o.answer} (case: ${c.why})`;
  if (changed) return `forwarded but changed in transit: ${j.evidence}`;
  if (OPAQUE && /^(https|wss):/i.test(c.payload.kind === 'other' ? '' : c.payload.url)) return `tunnelled opaquely: only the CONNECT authority was decided and scanned (case: ${c.why})`;
  if (c.payload.kind === 'ws') return `every frame reached the upstream, no finding on the frames (case: ${c.why})`;
  return `forwarded, ${o.answer}: policy allowed it and DLP found nothing in URL, headers or body (case: ${c.why})`;
}

// ---------------------------------------------------------------- report

interface Row { category: string; cases: number; run: number; na: number; correct: number; blockOk: number; allowOk: number; falseBlocks: number; misses: number; errors: number; naReasons: Map<string, number> }

function tally(results: readonly CaseResult[]): Row[] {
  const rows = new Map<string, Row>();
  for (const r of results) {
    const row = rows.get(r.category) ?? { category: r.category, cases: 0, run: 0, na: 0, correct: 0, blockOk: 0, allowOk: 0, falseBlocks: 0, misses: 0, errors: 0, naReasons: new Map() };
    rows.set(r.category, row);
    row.cases += 1;
    if (r.actual === 'not_applicable') {
      row.na += 1;
      row.naReasons.set(r.reason ?? '', (row.naReasons.get(r.reason ?? '') ?? 0) + 1);
      continue;
    }
    row.run += 1;
    if (r.correct) {
      row.correct += 1;
      if (r.expected === 'block') row.blockOk += 1;
      else row.allowOk += 1;
    } else if (r.actual === 'error') row.errors += 1;
    else if (r.expected === 'allow') row.falseBlocks += 1;
    else row.misses += 1;
  }
  return [...rows.values()].sort((a, b) => a.category.localeCompare(b.category));
}

function total(rows: readonly Row[]): Row {
  const t: Row = { category: 'total', cases: 0, run: 0, na: 0, correct: 0, blockOk: 0, allowOk: 0, falseBlocks: 0, misses: 0, errors: 0, naReasons: new Map() };
  for (const r of rows) {
    for (const k of ['cases', 'run', 'na', 'correct', 'blockOk', 'allowOk', 'falseBlocks', 'misses', 'errors'] as const) t[k] += r[k];
  }
  return t;
}

const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);

function printTable(rows: readonly Row[], results: readonly CaseResult[], ms: number, to: NodeJS.WritableStream): void {
  const w = (s: string | number, n: number): string => String(s).padStart(n);
  const out: string[] = [];
  out.push(`agent-egress-bench through the real egress proxy (${results.length} cases, ${ms} ms; policy Net(*), DLP on, ${OPAQUE ? 'TLS inspection OFF (--no-inspect)' : 'TLS inspection on'}, private loopback network)`);
  out.push('');
  out.push(`${'category'.padEnd(22)}${w('cases', 6)}${w('run', 5)}${w('correct', 9)}${w('blocked ok', 12)}${w('allowed ok', 12)}${w('false blk', 11)}${w('misses', 8)}${w('errors', 8)}${w('score', 8)}`);
  const line = (r: Row): string => {
    if (r.run === 0) return `${r.category.padEnd(22)}${w(r.cases, 6)}  n/a (${[...r.naReasons.keys()].join('; ')})`;
    const na = r.na === 0 ? '' : `  (+${r.na} n/a: ${[...r.naReasons.entries()].map(([k, v]) => `${v} ${k}`).join('; ')})`;
    return `${r.category.padEnd(22)}${w(r.cases, 6)}${w(r.run, 5)}${w(r.correct, 9)}${w(r.blockOk, 12)}${w(r.allowOk, 12)}${w(r.falseBlocks, 11)}${w(r.misses, 8)}${w(r.errors, 8)}${w(pct(r.correct, r.run), 8)}${na}`;
  };
  for (const r of rows) out.push(line(r));
  const t = total(rows);
  out.push(`${'total'.padEnd(22)}${w(t.cases, 6)}${w(t.run, 5)}${w(t.correct, 9)}${w(t.blockOk, 12)}${w(t.allowOk, 12)}${w(t.falseBlocks, 11)}${w(t.misses, 8)}${w(t.errors, 8)}${w(pct(t.correct, t.run), 8)}  (${t.na} not applicable)`);
  const by = new Map<string, number>();
  for (const r of results) if (r.blockedBy !== undefined) by.set(r.blockedBy, (by.get(r.blockedBy) ?? 0) + 1);
  out.push('');
  out.push(`refusals by protection: ${[...by.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const wrong = results.filter((r) => r.actual !== 'not_applicable' && !r.correct);
  out.push('');
  out.push(wrong.length === 0 ? 'wrong cases: none' : `wrong cases (${wrong.length}):`);
  for (const r of wrong) out.push(`  ${r.id} [${r.category}] expected ${r.expected}, got ${r.actual}: ${r.reason ?? r.evidence}`);
  to.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------- main

export async function main(): Promise<void> {
  // Never outside the private namespace: the setup adds addresses to loopback and listens on 80 and 443.
  if (process.env.CORDON_AGENT_BENCH_NETNS !== '1') throw new Error('agent-bench-run: start bench/egress/agent-bench.ts (it enters a private network namespace first)');
  const started = Date.now();
  const cases = loadCases(ROOT);
  const applicable = cases.filter((c) => notApplicable(c) === undefined);
  setUpLoopback(applicable);
  const upstreamCa = await SessionCa.create('agent-bench upstream');
  const sessionCa = await SessionCa.create('agent-bench');
  const servers = await startUpstreams(applicable, upstreamCa);
  const resolved: string[] = [];
  const resolver: Resolver = (name) => {
    resolved.push(name);
    return Promise.resolve([{ address: UPSTREAM_V4, family: 4 }]);
  };
  const events: DecisionEvent[] = [];
  const proxy: RunningProxy = await startProxy({
    policy: rulesPolicy({ allow: ['Net(*)'] }).policy,
    resolver,
    scanner: createRequestScanner(),
    ...(OPAQUE ? {} : { tls: { ca: sessionCa, roots: upstreamCa.certPem } }),
    http: { host: '127.0.0.1', port: 0 },
    publish: (e) => events.push(e),
    log: () => undefined,
  });
  const proxyPort = proxy.httpAddress?.port ?? 0;
  const clientCa = OPAQUE ? upstreamCa.certPem : sessionCa.certPem;
  const results: CaseResult[] = [];
  for (const c of cases) {
    const na = notApplicable(c);
    if (na !== undefined) {
      results.push({ id: c.id, category: c.category, expected: c.expected, actual: 'not_applicable', correct: false, evidence: '', reason: na });
      continue;
    }
    seen = fresh();
    const firstEvent = events.length;
    const firstResolved = resolved.length;
    const t0 = Date.now();
    const payload = c.payload;
    const run = payload.kind === 'ws' ? wsCase(proxyPort, clientCa, payload.url, payload.frames) : payload.kind === 'http' ? httpCase(proxyPort, clientCa, payload) : Promise.resolve<Outcome>({ answer: 'not runnable', refused: false, rule: undefined, status: undefined, body: '' });
    const o = await withTimeout(run, CASE_TIMEOUT_MS, () => ({ answer: 'timeout', refused: false, rule: undefined, status: undefined, body: '', error: 'timeout' }));
    // Let the upstream side finish recording (the response can reach the client before the upstream's 'end').
    await new Promise((r) => setTimeout(r, 20));
    const j = judge(c, o, seen);
    const changed = j.evidence.includes('forwarded changed');
    const correct = j.actual === c.expected && !(j.actual === 'allow' && changed);
    const decisions = events.slice(firstEvent).map((e) => `${e.subject} ${e.decision} ${e.rule ?? ''}`.trimEnd());
    const why = correct ? undefined : wrongReason(c, j, o, changed);
    results.push({ id: c.id, category: c.category, expected: c.expected, actual: j.actual, correct, evidence: j.evidence, decisions, ...(why === undefined ? {} : { reason: why }),
      upstream: { requests: seen.requests.length, heads: seen.heads, connections: seen.connections, frames: seen.frames.length }, ms: Date.now() - t0, resolved: resolved.slice(firstResolved), ...(j.actual === 'block' ? { blockedBy: blockedBy(o) } : {}) });
  }
  await proxy.close();
  for (const s of upgraded) s.destroy();
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  const rows = tally(results);
  const ms = Date.now() - started;
  // With --json the table goes to stderr, the JSON document to stdout.
  printTable(rows, results, ms, JSON_OUT ? process.stderr : process.stdout);
  if (JSON_OUT) {
    const t = total(rows);
    const plain = (r: Row): Record<string, unknown> => ({ ...r, score: r.run === 0 ? null : r.correct / r.run, naReasons: Object.fromEntries(r.naReasons) });
    process.stdout.write(`${JSON.stringify({ tool: 'cordon egress proxy', tlsInspection: !OPAQUE, corpus: ROOT, ms, namesResolved: resolved.length, decisions: events.length, categories: rows.map(plain), total: plain(t), results }, null, 2)}\n`);
  }
}

