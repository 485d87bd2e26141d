/**
 * The hook's side of the ask-only endpoint (`src/approval/ask-endpoint.ts`):
 * under `cordon run`, an `ask` is submitted to the supervisor, which decides
 * the call with the session's policy and shows exactly it to a person; the
 * hook hears the verdict about its own submission and nothing else. No
 * endpoint (not under `cordon run`, or no approval channel there) is
 * `absent`: the hook then keeps asking through the harness's own prompt.
 * Waiting is bounded by `waitMs` (kept below the harness's hook timeout)
 * and by the approval's TTL plus a margin;
 * giving up closes the connection, which withdraws the approval, and is a
 * deny. Everything unexpected is a deny too: this never answers allow
 * unless a person approved.
 */
import { connect } from 'node:net';
import { AskReplySchema, MAX_ASK_LINE, type AskRequest } from '../approval/ask-protocol.js';
import { JsonLines } from '../approval/protocol.js';

export type AskRoute =
  | { readonly kind: 'absent'; readonly reason: string }
  | { readonly kind: 'approved'; readonly id: string; readonly reason: string }
  | { readonly kind: 'denied'; readonly reason: string }
  /** The supervisor's policy does not ask: it denies, or leaves the call to the harness. */
  | { readonly kind: 'not-asked'; readonly decision: 'allow' | 'deny'; readonly reason: string };

/** How long after the approval's TTL the hook still waits for the service's own deny. */
const TTL_MARGIN_MS = 5000;

export function routeAsk(socketPath: string, request: Omit<AskRequest, 'type'>, waitMs: number): Promise<AskRoute> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    const lines = new JsonLines(MAX_ASK_LINE);
    let done = false;
    let connected = false;
    const finish = (r: AskRoute): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const started = Date.now();
    const giveUp = (ms: number): NodeJS.Timeout => setTimeout(() => {
      finish({ kind: 'denied', reason: `no answer from a person within ${Math.round((Date.now() - started) / 1000)} s (the hook's wait); the approval was withdrawn and the call is denied` });
    }, ms);
    let timer = giveUp(waitMs);
    s.setEncoding('utf8');
    s.once('connect', () => {
      connected = true;
      s.write(`${JSON.stringify({ type: 'ask', ...request })}\n`);
    });
    s.on('data', (chunk: string) => {
      let msgs: unknown[];
      try {
        msgs = lines.push(chunk);
      } catch {
        finish({ kind: 'denied', reason: 'the approval endpoint sent a malformed reply; denied' });
        return;
      }
      for (const raw of msgs) {
        const r = AskReplySchema.safeParse(raw);
        if (!r.success) {
          finish({ kind: 'denied', reason: 'the approval endpoint sent an unexpected reply; denied' });
          return;
        }
        const m = r.data;
        switch (m.type) {
          case 'pending': {
            // The service denies at its TTL; a verdict that has not come a few seconds after that is not coming.
            const left = Math.min(waitMs - (Date.now() - started), m.ttlMs + TTL_MARGIN_MS);
            clearTimeout(timer);
            timer = giveUp(Math.max(0, left));
            break;
          }
          case 'verdict':
            finish(m.approved ? { kind: 'approved', id: m.id, reason: m.reason } : { kind: 'denied', reason: `${m.reason} (${m.id})` });
            return;
          case 'not-asked':
            finish({ kind: 'not-asked', decision: m.decision, reason: m.reason });
            return;
          case 'error':
            finish({ kind: 'denied', reason: `the approval endpoint refused the ask (${m.code}: ${m.message}); denied` });
            return;
        }
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      // No socket, or nobody listening: not under a cordon run with approvals (or it has ended).
      if (!connected && (e.code === 'ENOENT' || e.code === 'ECONNREFUSED')) finish({ kind: 'absent', reason: `no approval endpoint at ${socketPath} (${e.code})` });
      else finish({ kind: 'denied', reason: `the approval endpoint failed (${e.code ?? e.message}); denied` });
    });
    s.on('close', () => finish({ kind: 'denied', reason: 'the approval endpoint closed without a verdict (the session may have ended); denied' }));
  });
}
