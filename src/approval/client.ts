/**
 * Client side of the approval socket, for `cordon approvals` and `cordon ui`
 * (both run outside the sandbox, as the same user). Finds the running
 * sessions, lists and watches their pending approvals, and signs answers with
 * the session's key.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { CordonError } from '../errors.js';
import {
  answerMac, JsonLines, MAX_SERVER_LINE, ServerMessageSchema,
  type ClientMessage, type HelloInfo, type ServerEvent, type ServerMessage,
} from './protocol.js';
import type { PendingApproval, Verdict } from './service.js';

export class ApprovalConnection {
  readonly #socket: Socket;
  readonly #waiting: ((m: ServerMessage | Error) => void)[] = [];
  #onEvent: ((e: ServerEvent) => void) | undefined;
  #closed: Error | undefined;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    const lines = new JsonLines(MAX_SERVER_LINE);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      let msgs: unknown[];
      try {
        msgs = lines.push(chunk);
      } catch (e) {
        this.#fail(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      for (const raw of msgs) {
        const r = ServerMessageSchema.safeParse(raw);
        if (!r.success) {
          this.#fail(new Error('the approval service sent a malformed message'));
          return;
        }
        if (r.data.type === 'event') this.#onEvent?.(r.data.event);
        else this.#waiting.shift()?.(r.data);
      }
    });
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.#fail(new Error('the session ended (its approval socket closed)'));
      resolve();
    }));
    socket.on('error', (e) => this.#fail(e));
  }

  static open(path: string, timeoutMs = 3000): Promise<ApprovalConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      const t = setTimeout(() => {
        s.destroy();
        reject(new CordonError('CORDON_APPROVAL', `no answer from ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(new ApprovalConnection(s));
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(new CordonError('CORDON_APPROVAL', `cannot connect to ${path} (${e.message})`));
      });
    });
  }

  #fail(e: Error): void {
    this.#closed ??= e;
    for (const w of this.#waiting.splice(0)) w(e);
    this.#socket.destroy();
  }

  request(m: ClientMessage): Promise<ServerMessage> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#waiting.push((r) => (r instanceof Error ? reject(r) : resolve(r)));
      this.#socket.write(`${JSON.stringify(m)}\n`);
    });
  }

  async hello(): Promise<HelloInfo> {
    const r = await this.request({ type: 'hello' });
    if (r.type !== 'hello') throw new CordonError('CORDON_APPROVAL', `unexpected reply ${r.type} to hello`);
    return r;
  }

  async list(): Promise<PendingApproval[]> {
    const r = await this.request({ type: 'list' });
    if (r.type !== 'pending') throw new CordonError('CORDON_APPROVAL', `unexpected reply ${r.type} to list`);
    return r.approvals;
  }

  /** Streams events; resolves with the pending approvals at the time of the call. */
  async watch(onEvent: (e: ServerEvent) => void): Promise<PendingApproval[]> {
    this.#onEvent = onEvent;
    const r = await this.request({ type: 'watch' });
    if (r.type !== 'pending') throw new CordonError('CORDON_APPROVAL', `unexpected reply ${r.type} to watch`);
    return r.approvals;
  }

  /** Answers one approval, signed with `key`; throws with the service's reason when it is refused. */
  async answer(key: Buffer, a: { session: string; id: string; hash: string; verdict: Verdict; by: string }): Promise<void> {
    const mac = answerMac(key, a);
    const r = await this.request({ type: 'answer', id: a.id, hash: a.hash, verdict: a.verdict, by: a.by, mac });
    if (r.type === 'error') throw new CordonError('CORDON_APPROVAL', r.message);
    if (r.type !== 'answered') throw new CordonError('CORDON_APPROVAL', `unexpected reply ${r.type} to answer`);
  }

  close(): void {
    this.#socket.end();
    this.#socket.destroy();
  }
}

export interface RunningSession {
  readonly path: string;
  readonly keyFile: string;
  readonly hello: HelloInfo;
  readonly connection: ApprovalConnection;
}

/** The answer key of a session (hex in a 0600 file beside its socket). */
export function readKey(keyFile: string): Buffer {
  let text: string;
  try {
    text = readFileSync(keyFile, 'utf8').trim();
  } catch (e) {
    throw new CordonError('CORDON_APPROVAL', `cannot read the session key ${keyFile} (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!/^[0-9a-f]{64}$/.test(text)) throw new CordonError('CORDON_APPROVAL', `${keyFile} does not hold a session key`);
  return Buffer.from(text, 'hex');
}

/** Connects to every live session socket in `dir` (stale sockets of ended runs are skipped). */
export async function openSessions(dir: string): Promise<RunningSession[]> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const socks = names.filter((n) => /^s_[0-9a-f]{4,64}\.sock$/.test(n));
  const opened = await Promise.all(socks.map(async (n) => {
    const path = join(dir, n);
    try {
      const connection = await ApprovalConnection.open(path);
      const hello = await connection.hello();
      return { path, keyFile: join(dir, `${hello.session}.key`), hello, connection };
    } catch {
      return undefined;
    }
  }));
  return opened.filter((s): s is RunningSession => s !== undefined);
}
