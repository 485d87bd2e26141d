/**
 * The ask-only endpoint: a Unix socket the supervisor of `cordon run` serves
 * and binds into the sandbox, so a harness hook running there (Claude Code
 * starts `cordon hook claude-code` inside) can route an `ask` to a person.
 *
 * What it can do is exactly one thing: submit one tool call per connection
 * and hear the verdict about that submission. It cannot list, watch or
 * answer approvals, never sees another approval or the answer key (those
 * live on the approval socket, which stays outside the sandbox), and the
 * supervisor decides the call with its own policy, builds the canonical
 * request and hashes it: a call the policy does not ask about is not asked.
 * A person still answers on the terminal, web or webhook channel. Closing
 * the connection withdraws the approval. Submissions are capped (at most
 * `maxConcurrent` waiting, `perMinute` per minute) on top of the service's
 * own cap of pending approvals.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CordonError } from '../errors.js';
import { ASK_SOCKET_ENV, AskRequestSchema, MAX_ASK_LINE, type AskReply, type AskRequest } from './ask-protocol.js';
import type { HookAskJudgement } from './hook-ask.js';
import { JsonLines } from './protocol.js';
import type { AskInput } from './request.js';
import { requestHash } from './request.js';
import type { Outcome } from './service.js';

export interface AskEndpointOptions {
  /** Decides the raw call with the session's policy (`judgeHookAsk`). */
  readonly judge: (q: AskRequest) => Promise<HookAskJudgement>;
  /** The session's approval service. */
  readonly ask: (input: AskInput, signal: AbortSignal) => Promise<Outcome>;
  readonly ttlMs: number;
  readonly maxConcurrent?: number;
  readonly perMinute?: number;
  /** How long a connection may take to send its one line (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Parent of the endpoint's directory (default the system temp dir). */
  readonly parent?: string;
}

export interface AskEndpoint {
  /** The socket's path, the same inside the sandbox and outside. */
  readonly socketPath: string;
  /** Binds the endpoint's directory (read-only: connecting needs no write access to the mount) and names it in the environment. */
  apply<S extends { readonly readOnly: readonly string[]; readonly env: Readonly<Record<string, string>> }>(spec: S): S;
  close(): Promise<void>;
}

export async function startAskEndpoint(o: AskEndpointOptions): Promise<AskEndpoint> {
  const dir = mkdtempSync(path.join(o.parent ?? tmpdir(), 'cordon-ask-'));
  chmodSync(dir, 0o700);
  const socketPath = path.join(dir, 'ask.sock');
  const maxConcurrent = o.maxConcurrent ?? 4;
  const perMinute = o.perMinute ?? 30;
  const recent: number[] = [];
  const clients = new Set<Socket>();
  let waiting = 0;

  const reply = (s: Socket, m: AskReply, end = false): void => {
    if (s.destroyed) return;
    s.write(`${JSON.stringify(m)}\n`);
    if (end) s.end();
  };

  const serve = async (s: Socket, q: AskRequest, abort: AbortController): Promise<void> => {
    const now = Date.now();
    while (recent.length > 0 && (recent[0] ?? 0) < now - 60_000) recent.shift();
    if (waiting >= maxConcurrent) {
      reply(s, { type: 'error', code: 'busy', message: `${waiting} asks from this sandbox are already waiting for a person; this one was not submitted` }, true);
      return;
    }
    if (recent.length >= perMinute) {
      reply(s, { type: 'error', code: 'rate', message: `more than ${perMinute} asks from this sandbox in the last minute; this one was not submitted` }, true);
      return;
    }
    recent.push(now);
    waiting++;
    try {
      let j: HookAskJudgement;
      try {
        j = await o.judge(q);
      } catch (e) {
        reply(s, { type: 'error', code: 'bad-call', message: `cordon cannot check this call: ${e instanceof Error ? e.message.slice(0, 500) : 'error'}` }, true);
        return;
      }
      if (j.kind === 'not-asked') {
        reply(s, { type: 'not-asked', decision: j.decision, reason: j.reason.slice(0, 4096) }, true);
        return;
      }
      const outcome = o.ask(j.input, abort.signal);
      reply(s, { type: 'pending', hash: requestHash(j.input.request), ttlMs: o.ttlMs });
      const out = await outcome;
      reply(s, { type: 'verdict', approved: out.approved, id: out.id, reason: out.reason.slice(0, 4096) }, true);
    } finally {
      waiting--;
    }
  };

  const server = createServer((s) => {
    if (clients.size >= maxConcurrent * 2) {
      s.destroy();
      return;
    }
    clients.add(s);
    s.setEncoding('utf8');
    const abort = new AbortController();
    const lines = new JsonLines(MAX_ASK_LINE);
    let asked = false;
    const timer = setTimeout(() => {
      if (!asked) {
        reply(s, { type: 'error', code: 'timeout', message: 'no ask within the time allowed' }, true);
        s.destroy();
      }
    }, o.requestTimeoutMs ?? 10_000);
    s.on('data', (chunk: string) => {
      let msgs: unknown[];
      try {
        msgs = lines.push(chunk);
      } catch {
        reply(s, { type: 'error', code: 'bad-line', message: `a line over ${MAX_ASK_LINE} bytes or not JSON` }, true);
        s.destroy();
        return;
      }
      for (const m of msgs) {
        if (asked) {
          // One submission per connection; anything more (a list, an answer, a second ask) is refused and the connection cut.
          reply(s, { type: 'error', code: 'refused', message: 'this endpoint accepts one ask per connection and nothing else' }, true);
          s.destroy();
          return;
        }
        const r = AskRequestSchema.safeParse(m);
        if (!r.success) {
          reply(s, { type: 'error', code: 'refused', message: 'this endpoint only accepts {"type":"ask","tool_name","tool_input","cwd"}: it cannot list, watch or answer approvals' }, true);
          s.destroy();
          return;
        }
        asked = true;
        clearTimeout(timer);
        void serve(s, r.data, abort).catch(() => s.destroy());
      }
    });
    s.on('error', () => s.destroy());
    s.on('close', () => {
      clearTimeout(timer);
      clients.delete(s);
      abort.abort();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new CordonError('CORDON_APPROVAL', `cannot listen on ${socketPath} (${e.message})`)));
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  server.unref();

  return {
    socketPath,
    apply: (spec) => ({ ...spec, readOnly: [...spec.readOnly, dir], env: { ...spec.env, [ASK_SOCKET_ENV]: socketPath } }),
    close: async () => {
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
