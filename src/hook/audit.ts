/**
 * Records hook decisions. Each hook call is its own short-lived process, and
 * a harness may run several at once (parallel tool calls), so the session log
 * is appended under a lock: a directory created atomically next to the log.
 * The session id is `$CORDON_SESSION` when a supervisor set one, otherwise
 * derived from the harness's session id, so one agent session is one log.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { AuditWriter } from '../audit/writer.js';
import { publishDecision } from '../audit/publish.js';
import type { DecisionEvent } from '../audit/record.js';
import { isSessionId } from '../audit/paths.js';
import { CordonError } from '../errors.js';

const LOCK_WAIT_MS = 5_000;
const LOCK_STALE_MS = 30_000;
/** Longer subjects (MCP arguments, long commands) are cut, saying so and giving the whole subject's hash. */
export const MAX_AUDIT_SUBJECT = 4096;

export function hookSession(harnessSession: string, env: NodeJS.ProcessEnv): string {
  const given = env['CORDON_SESSION'];
  if (given !== undefined && isSessionId(given)) return given;
  return `s_${createHash('sha256').update(`hook:${harnessSession}`).digest('hex').slice(0, 16)}`;
}

export function auditSubject(subject: string): string {
  if (subject.length <= MAX_AUDIT_SUBJECT) return subject;
  const hash = createHash('sha256').update(subject).digest('hex');
  return `${subject.slice(0, MAX_AUDIT_SUBJECT)} [cut: ${subject.length} characters in all, sha256 ${hash}]`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function withLock<T>(lockDir: string, fn: () => T): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lockDir, { mode: 0o700 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lockDir).mtimeMs > LOCK_STALE_MS) rmdirSync(lockDir);
      } catch {
        // Another process removed it first; try again.
      }
      if (Date.now() > deadline) throw new CordonError('CORDON_AUDIT_IO', `the audit log is locked by another process (${lockDir}); remove the directory if no cordon hook is running`);
      await sleep(15 + Math.floor(Math.random() * 20));
    }
  }
  try {
    return fn();
  } finally {
    rmdirSync(lockDir);
  }
}

/** Writes the events to `<dir>/<session>.jsonl` (publishing them on the decision channel for the writer). */
export async function recordHookDecisions(dir: string, session: string, events: readonly DecisionEvent[]): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new CordonError('CORDON_AUDIT_IO', `cannot create the audit directory ${dir}: ${String(e)}`, { cause: e });
  }
  await withLock(path.join(dir, `${session}.jsonl.lock`), () => {
    const writer = AuditWriter.open({ dir, session });
    const failures: CordonError[] = [];
    const off = writer.subscribe({ onError: (e) => failures.push(e) });
    try {
      for (const e of events) {
        if (!publishDecision(e)) throw new CordonError('CORDON_INTERNAL', 'no audit writer subscribed to the decision channel');
      }
    } finally {
      off();
      writer.close();
    }
    const first = failures[0];
    if (first !== undefined) throw first;
  }).catch((e: unknown) => {
    if (e instanceof CordonError) throw e;
    throw new CordonError('CORDON_AUDIT_IO', `cannot record the decision in ${dir}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  });
}
