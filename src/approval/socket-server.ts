/**
 * The approval service's only listener: a Unix socket in a 0700 directory
 * outside every sandbox, beside a 0600 file holding the session's answer key.
 * `cordon approvals` and `cordon ui` connect here; every answer must carry an
 * HMAC under that key. Clients can list, watch and answer; nothing else.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { DecisionEvent } from '../audit/record.js';
import { CordonError } from '../errors.js';
import { ensurePrivateDir, keyPath, socketPath } from './paths.js';
import {
  ClientMessageSchema, JsonLines, MAX_CLIENT_LINE, PROTOCOL_VERSION, verifyAnswerMac,
  type DecisionView, type HelloInfo, type ServerEvent, type ServerMessage,
} from './protocol.js';
import type { ApprovalService } from './service.js';

export interface ApprovalSocketOptions {
  readonly service: ApprovalService;
  readonly dir: string;
  readonly info: Pick<HelloInfo, 'command' | 'workspace' | 'pid' | 'channels' | 'trifecta'>;
  readonly maxClients?: number;
  /** Recent decisions kept for watchers that connect later (default 200). */
  readonly keepDecisions?: number;
}

export interface ApprovalSocket {
  readonly path: string;
  readonly keyFile: string;
  /** Feeds one audit decision to watchers (the live decision stream). */
  decision(e: DecisionEvent): void;
  close(): Promise<void>;
}

/** Most bytes queued to one slow client before it is cut off. */
const MAX_QUEUED = 8 * 1024 * 1024;

export async function startApprovalSocket(o: ApprovalSocketOptions): Promise<ApprovalSocket> {
  ensurePrivateDir(o.dir);
  const path = socketPath(o.dir, o.service.session);
  const keyFile = keyPath(o.dir, o.service.session);
  const key = randomBytes(32);
  try {
    writeFileSync(keyFile, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    throw new CordonError('CORDON_APPROVAL', `cannot write the approval key ${keyFile} (${e instanceof Error ? e.message : String(e)})`);
  }
  const decisions: DecisionView[] = [];
  const keep = o.keepDecisions ?? 200;
  const watchers = new Set<Socket>();
  const clients = new Set<Socket>();
  const service = o.service;

  const send = (s: Socket, m: ServerMessage): void => {
    if (s.destroyed) return;
    if (s.writableLength > MAX_QUEUED) {
      s.destroy();
      return;
    }
    s.write(`${JSON.stringify(m)}\n`);
  };
  const broadcast = (event: ServerEvent): void => {
    for (const w of watchers) send(w, { type: 'event', event });
  };
  const unsubscribe = service.on((e) => {
    broadcast(e.kind === 'pending' ? { kind: 'pending', approval: e.approval } : { kind: 'resolved', id: e.id, approved: e.approved, reason: e.reason });
  });

  const hello = (): ServerMessage => ({ type: 'hello', version: PROTOCOL_VERSION, session: service.session, ttlMs: service.ttlMs, ...o.info });

  const handle = (s: Socket, raw: unknown): void => {
    const r = ClientMessageSchema.safeParse(raw);
    if (!r.success) {
      send(s, { type: 'error', code: 'bad-message', message: 'unknown or malformed message; expected hello, list, watch or answer' });
      return;
    }
    const m = r.data;
    switch (m.type) {
      case 'hello':
        send(s, hello());
        return;
      case 'list':
        send(s, { type: 'pending', approvals: service.pending() });
        return;
      case 'watch':
        watchers.add(s);
        send(s, { type: 'pending', approvals: service.pending() });
        for (const d of decisions) send(s, { type: 'event', event: { kind: 'decision', decision: d } });
        return;
      case 'answer': {
        const fields = { session: service.session, id: m.id, hash: m.hash, verdict: m.verdict, by: m.by };
        if (!verifyAnswerMac(key, fields, m.mac)) {
          send(s, { type: 'error', code: 'bad-mac', message: 'the answer is not signed with this session\'s key; nothing was decided' });
          return;
        }
        const res = service.answer(fields);
        send(s, res.ok ? { type: 'answered', id: m.id, verdict: m.verdict } : { type: 'error', code: res.code, message: res.message });
        return;
      }
    }
  };

  const server = createServer((s) => {
    if (clients.size >= (o.maxClients ?? 32)) {
      s.destroy();
      return;
    }
    clients.add(s);
    s.setEncoding('utf8');
    const lines = new JsonLines(MAX_CLIENT_LINE);
    s.on('data', (chunk: string) => {
      let msgs: unknown[];
      try {
        msgs = lines.push(chunk);
      } catch (e) {
        send(s, { type: 'error', code: 'bad-line', message: e instanceof Error ? e.message.slice(0, 200) : 'bad line' });
        s.end();
        return;
      }
      for (const m of msgs) handle(s, m);
    });
    s.on('error', () => s.destroy());
    s.on('close', () => {
      clients.delete(s);
      watchers.delete(s);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new CordonError('CORDON_APPROVAL', `cannot listen on ${path} (${e.message})`)));
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  server.unref();

  return {
    path,
    keyFile,
    decision: (e) => {
      const d: DecisionView = { ...e, ts: new Date().toISOString() };
      decisions.push(d);
      if (decisions.length > keep) decisions.shift();
      broadcast({ kind: 'decision', decision: d });
    },
    close: async () => {
      unsubscribe();
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const f of [keyFile, path]) {
        try {
          unlinkSync(f);
        } catch {
          // already gone
        }
      }
    },
  };
}
