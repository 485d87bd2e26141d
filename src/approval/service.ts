/**
 * The approval service: one instance per `cordon run` session, in the
 * supervisor (outside every sandbox). A pending approval holds the exact
 * request and its hash; an answer applies to that hash only, is consumed by
 * the one waiting request, and nothing is ever remembered as "always allow".
 * An unanswered approval becomes a deny when its time is up; closing the
 * service denies everything still pending.
 */
import { randomBytes } from 'node:crypto';
import type { DecisionEvent } from '../audit/record.js';
import type { PendingApproval } from './protocol.js';
import { canonicalRequest, describeRequest, requestHash, type AskInput } from './request.js';

export type Verdict = 'approve' | 'deny';

export type { PendingApproval };

export interface Outcome {
  readonly approved: boolean;
  readonly id: string;
  /** One sentence, shown to the agent in a refusal and written to the audit log. */
  readonly reason: string;
}

export type AnswerResult =
  | { readonly ok: true; readonly approval: PendingApproval }
  | { readonly ok: false; readonly code: 'unknown' | 'hash-mismatch'; readonly message: string };

export type ServiceEvent =
  | { readonly kind: 'pending'; readonly approval: PendingApproval }
  | { readonly kind: 'resolved'; readonly id: string; readonly approved: boolean; readonly reason: string };

export interface ApprovalServiceOptions {
  readonly session: string;
  /** How long a pending approval waits before it is a deny (ms). */
  readonly ttlMs: number;
  /** At most this many pending at once; more are denied at once (an agent cannot flood a person). Default 32. */
  readonly maxPending?: number;
  /** Where approval decisions go (the audit channel in `cordon run`). */
  readonly publish?: (event: DecisionEvent) => void;
}

interface Entry {
  readonly view: PendingApproval;
  readonly resolve: (o: Outcome) => void;
  readonly timer: NodeJS.Timeout;
}

export const DEFAULT_TTL_MS = 120_000;

/** `approvals.ttl` (`120s`, `2m`, `500ms`) in ms; the default when absent. */
export function parseTtl(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TTL_MS;
  const m = /^([1-9][0-9]{0,5})(ms|s|m)$/.exec(text);
  if (m === null) return DEFAULT_TTL_MS;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

export class ApprovalService {
  readonly session: string;
  readonly ttlMs: number;
  readonly #max: number;
  readonly #publish: (event: DecisionEvent) => void;
  readonly #pending = new Map<string, Entry>();
  readonly #listeners = new Set<(e: ServiceEvent) => void>();
  #closed = false;

  constructor(o: ApprovalServiceOptions) {
    this.session = o.session;
    this.ttlMs = Math.max(1, Math.min(o.ttlMs, 60 * 60_000));
    this.#max = o.maxPending ?? 32;
    this.#publish = o.publish ?? (() => undefined);
  }

  /** Denies without asking anyone (recorded like any answer). */
  refuse(input: AskInput, reason: string): Outcome {
    const id = `a_${randomBytes(6).toString('hex')}`;
    this.#record(input, 'deny', `${reason} (${id})`);
    return { approved: false, id, reason };
  }

  /**
   * Waits for a person's answer about exactly this request; resolves (never
   * rejects) with the outcome. `signal`: the asker went away (the hook gave
   * up): the approval is withdrawn as a deny.
   */
  ask(input: AskInput, signal?: AbortSignal): Promise<Outcome> {
    const id = `a_${randomBytes(6).toString('hex')}`;
    const deny = (reason: string): Promise<Outcome> => {
      this.#record(input, 'deny', `${reason} (${id})`);
      return Promise.resolve({ approved: false, id, reason });
    };
    if (this.#closed) return deny('The approval service has stopped; an ask is a deny.');
    if (signal?.aborted === true) return deny('The asker went away before the approval was shown; denied.');
    if (this.#pending.size >= this.#max) return deny(`${this.#pending.size} approvals are already waiting; this one was denied without asking.`);
    let canonical: string;
    let hash: string;
    try {
      canonical = canonicalRequest(input.request);
      hash = requestHash(input.request);
    } catch (e) {
      return deny(`The request could not be put in canonical form (${e instanceof Error ? e.message : 'error'}); denied.`);
    }
    const now = Date.now();
    const view: PendingApproval = {
      id, session: this.session, hash, canonical, request: input.request, summary: describeRequest(input.request),
      boundary: input.boundary, subject: input.subject, rule: input.rule, reason: input.reason,
      ...(input.suggestion === undefined ? {} : { suggestion: input.suggestion }),
      ...(input.preview === undefined ? {} : { preview: input.preview }),
      createdAt: new Date(now).toISOString(), expiresAt: new Date(now + this.ttlMs).toISOString(),
    };
    this.#record(input, 'ask', `Waiting for a person: approval ${id} (sha256 ${hash}) from the ${input.boundary} boundary, for at most ${Math.round(this.ttlMs / 1000)} s. ${input.reason}`);
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        this.#settle(id, false, `No answer within ${Math.round(this.ttlMs / 1000)} s; an unanswered approval is a deny.`);
      }, this.ttlMs);
      this.#pending.set(id, { view, resolve, timer });
      signal?.addEventListener('abort', () => this.#settle(id, false, 'The asker went away before an answer (it gave up waiting); the approval was withdrawn as a deny.'), { once: true });
      this.#emit({ kind: 'pending', approval: view });
    });
  }

  /**
   * A person's answer (already authenticated by the channel). It must name the
   * hash of the pending request; it is consumed at once, so a second answer
   * (a replay) finds nothing.
   */
  answer(a: { readonly id: string; readonly hash: string; readonly verdict: Verdict; readonly by: string }): AnswerResult {
    const e = this.#pending.get(a.id);
    if (e === undefined) return { ok: false, code: 'unknown', message: `no pending approval ${a.id} (it was answered, expired or never existed)` };
    if (e.view.hash !== a.hash) return { ok: false, code: 'hash-mismatch', message: `approval ${a.id} is for a different request (sha256 ${e.view.hash}); nothing was decided` };
    const who = a.by.replace(/[^\w .@:-]/g, '?').slice(0, 64);
    this.#settle(a.id, a.verdict === 'approve', a.verdict === 'approve' ? `Approved by a person (${who}) for this exact request only.` : `Denied by a person (${who}).`);
    return { ok: true, approval: e.view };
  }

  pending(): PendingApproval[] {
    return [...this.#pending.values()].map((e) => e.view);
  }

  get(id: string): PendingApproval | undefined {
    return this.#pending.get(id)?.view;
  }

  /** Subscribes to pending/resolved events; returns the unsubscribe function. */
  on(listener: (e: ServiceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Denies everything pending and refuses new asks. */
  close(reason = 'The session ended before an answer; denied.'): void {
    this.#closed = true;
    for (const id of [...this.#pending.keys()]) this.#settle(id, false, reason);
  }

  #settle(id: string, approved: boolean, reason: string): void {
    const e = this.#pending.get(id);
    if (e === undefined) return;
    this.#pending.delete(id);
    clearTimeout(e.timer);
    const v = e.view;
    this.#publish({ boundary: 'approval', subject: v.subject, decision: approved ? 'allow' : 'deny', rule: v.rule, reason: `${reason} (${id}, sha256 ${v.hash})` });
    e.resolve({ approved, id, reason });
    this.#emit({ kind: 'resolved', id, approved, reason });
  }

  #record(input: AskInput, decision: 'ask' | 'deny', reason: string): void {
    this.#publish({ boundary: 'approval', subject: input.subject, decision, rule: input.rule, reason });
  }

  #emit(e: ServiceEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch {
        // a channel's failure never decides anything
      }
    }
  }
}
