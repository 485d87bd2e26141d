/**
 * `cordon ui`: a dashboard on 127.0.0.1 for the pending approvals, the live
 * decisions and the trifecta analysis of every running session. Every
 * request must carry the random token from the printed URL; the Host header
 * must name this listener (DNS rebinding) and a POST must come from this
 * origin. Answers go to the session's Unix socket signed with its key.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { ApprovalConnection, readKey } from '../client.js';
import type { DecisionView, HelloInfo } from '../protocol.js';
import type { PendingApproval } from '../service.js';
import { APP_JS, pageHtml } from './page.js';

const AnswerSchema = z.strictObject({
  session: z.string().regex(/^s_[0-9a-f]{4,64}$/),
  id: z.string().regex(/^a_[0-9a-f]{12}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  verdict: z.enum(['approve', 'deny']),
});

interface Tracked {
  readonly hello: HelloInfo;
  readonly keyFile: string;
  readonly connection: ApprovalConnection;
  readonly pending: Map<string, PendingApproval>;
  readonly decisions: (DecisionView & { session: string })[];
}

export interface Dashboard {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface DashboardOptions {
  readonly dir: string;
  readonly port?: number;
  /** How often the directory is scanned for new sessions (ms, default 500). */
  readonly scanMs?: number;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const token = randomBytes(24).toString('base64url');
  const tokenBuf = Buffer.from(token);
  const sessions = new Map<string, Tracked>();
  const opening = new Set<string>();
  const streams = new Set<ServerResponse>();
  let port = 0;

  const snapshot = (): string => JSON.stringify({
    sessions: [...sessions.values()].map((t) => ({ session: t.hello.session, command: t.hello.command, workspace: t.hello.workspace, pid: t.hello.pid, channels: t.hello.channels, trifecta: t.hello.trifecta })),
    pending: [...sessions.values()].flatMap((t) => [...t.pending.values()]),
    decisions: [...sessions.values()].flatMap((t) => t.decisions).sort((a, b) => a.ts.localeCompare(b.ts)).slice(-300),
  });
  let scheduled = false;
  const push = (): void => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      const data = `event: state\ndata: ${snapshot()}\n\n`;
      for (const s of streams) s.write(data);
    }, 50).unref();
  };

  const track = async (path: string): Promise<void> => {
    if (opening.has(path)) return;
    opening.add(path);
    try {
      const connection = await ApprovalConnection.open(path);
      const hello = await connection.hello();
      const t: Tracked = { hello, keyFile: join(o.dir, `${hello.session}.key`), connection, pending: new Map(), decisions: [] };
      const initial = await connection.watch((e) => {
        if (e.kind === 'pending') t.pending.set(e.approval.id, e.approval);
        else if (e.kind === 'resolved') t.pending.delete(e.id);
        else {
          t.decisions.push({ ...e.decision, session: hello.session });
          if (t.decisions.length > 300) t.decisions.shift();
        }
        push();
      });
      for (const p of initial) t.pending.set(p.id, p);
      sessions.set(path, t);
      push();
      void connection.closed.then(() => {
        sessions.delete(path);
        opening.delete(path);
        push();
      });
    } catch {
      opening.delete(path); // a stale socket of an ended run; tried again on the next scan
    }
  };
  const scan = (): void => {
    let names: string[];
    try {
      names = readdirSync(o.dir);
    } catch {
      names = [];
    }
    for (const n of names) if (/^s_[0-9a-f]{4,64}\.sock$/.test(n)) void track(join(o.dir, n));
  };
  scan();
  const scanner = setInterval(scan, o.scanMs ?? 500);
  scanner.unref();

  const tokenOk = (given: string | null | undefined): boolean => {
    if (typeof given !== 'string') return false;
    const b = Buffer.from(given);
    return b.length === tokenBuf.length && timingSafeEqual(b, tokenBuf);
  };
  const origins = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // DNS rebinding: a page on another name that resolves here carries that name in Host.
    if (!origins().includes(req.headers.host ?? '')) return send(res, 421, 'text/plain', 'wrong Host\n');
    const origin = req.headers.origin;
    if (origin !== undefined && !origins().map((h) => `http://${h}`).includes(origin)) return send(res, 403, 'text/plain', 'cross-origin request refused\n');
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? ''}`);
    const given = req.headers['x-cordon-token'];
    if (!tokenOk(typeof given === 'string' ? given : url.searchParams.get('token'))) return send(res, 401, 'text/plain', 'missing or wrong token: open the URL cordon ui printed\n');
    if (req.method === 'GET' && url.pathname === '/') return send(res, 200, 'text/html; charset=utf-8', pageHtml(token));
    if (req.method === 'GET' && url.pathname === '/app.js') return send(res, 200, 'text/javascript; charset=utf-8', APP_JS);
    if (req.method === 'GET' && url.pathname === '/events') {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream' });
      res.write(`event: state\ndata: ${snapshot()}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/api/answer') {
      if (origin === undefined || typeof given !== 'string') return json(res, 403, { ok: false, message: 'answers need the Origin of this page and the X-Cordon-Token header' });
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return json(res, 415, { ok: false, message: 'send JSON' });
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 4096) req.destroy();
        else chunks.push(c);
      });
      req.on('end', () => {
        void (async () => {
          let a: z.infer<typeof AnswerSchema>;
          try {
            a = AnswerSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            return json(res, 400, { ok: false, message: 'expected {session, id, hash, verdict}' });
          }
          const t = [...sessions.values()].find((s) => s.hello.session === a.session);
          if (t === undefined) return json(res, 404, { ok: false, message: `session ${a.session} is not running` });
          try {
            await t.connection.answer(readKey(t.keyFile), { ...a, by: 'cordon ui' });
            json(res, 200, { ok: true, message: `${a.verdict === 'approve' ? 'approved' : 'denied'} ${a.id}` });
          } catch (e) {
            json(res, 409, { ok: false, message: e instanceof Error ? e.message : 'refused' });
          }
        })();
      });
      return;
    }
    send(res, 404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    close: async () => {
      clearInterval(scanner);
      for (const s of streams) s.end();
      for (const t of sessions.values()) t.connection.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
