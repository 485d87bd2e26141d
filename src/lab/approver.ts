/**
 * The lab's scripted person for approval scenarios: outside every sandbox,
 * on the run's approval socket (as `cordon approvals approve` would), it
 * approves the first N requests that are held, signed with the session's
 * key, then answers nothing more, so every later ask ends as a deny at the
 * policy's TTL. What it approved is kept for the report.
 */
import { openSessions, readKey } from '../approval/client.js';

export interface Approver {
  /** Summaries of what was approved. */
  readonly approved: readonly string[];
  stop(): Promise<void>;
}

export function startApprover(dir: string, count: number, pollMs = 100): Approver {
  const approved: string[] = [];
  const seen = new Set<string>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped && approved.length < count) {
      const sessions = await openSessions(dir);
      try {
        for (const s of sessions) {
          for (const p of await s.connection.list()) {
            if (seen.has(p.id) || approved.length >= count) continue;
            seen.add(p.id);
            await s.connection.answer(readKey(s.keyFile), { session: s.hello.session, id: p.id, hash: p.hash, verdict: 'approve', by: 'lab person' });
            approved.push(p.summary.slice(0, 200));
          }
        }
      } catch {
        // a session that ended meanwhile; try again
      } finally {
        for (const s of sessions) s.connection.close();
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  })();
  return {
    approved,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
