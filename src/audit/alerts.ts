/**
 * `audit.alerts.webhook`: blocked-egress decisions POSTed as JSON to a URL.
 * The sink subscribes to the decision channel like the audit writer; the
 * handler only appends to a bounded queue, so traffic is never held up by
 * the webhook. Events are sent in batches (after `batchMs`, or at once when
 * a batch is full); a failed POST (network error, timeout, non-2xx) is
 * retried with exponential backoff; when the queue is full the oldest events
 * are dropped and the next batch says how many (`dropped`). `close()` tries
 * one last flush within a short deadline and never throws.
 *
 * Body: `{"source":"cordon","session":"s_…","events":[DecisionEvent+ts…],"dropped":0}`.
 * Events carry what the audit record carries (subject, rule, reason,
 * redacted finding samples): never a secret.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { onDecision } from './publish.js';
import type { DecisionEvent } from './record.js';

export interface AlertOptions {
  readonly url: string;
  readonly session: string;
  /** Wait this long to gather a batch (ms, default 1000). */
  readonly batchMs?: number;
  /** Events per POST (default 100). */
  readonly maxBatch?: number;
  /** Events held while the webhook is slow or down (default 1000); above, the oldest are dropped and counted. */
  readonly maxQueue?: number;
  /** Attempts per batch (default 5); the batch is dropped (and counted) after the last. */
  readonly attempts?: number;
  /** First retry delay (ms, default 500), doubled each attempt, at most 30 s. */
  readonly backoffMs?: number;
  /** Per POST (ms, default 5000). */
  readonly timeoutMs?: number;
  /** Which decisions are alerts (default: egress denies). */
  readonly select?: (e: DecisionEvent) => boolean;
  /** Diagnostics (default: stderr). */
  readonly log?: (line: string) => void;
}

export type AlertEvent = DecisionEvent & { readonly ts: string };

const isEgressDeny = (e: DecisionEvent): boolean => e.boundary === 'egress' && e.decision === 'deny';

function looksLikeDecision(m: unknown): m is DecisionEvent {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  return typeof o['boundary'] === 'string' && typeof o['decision'] === 'string' && typeof o['subject'] === 'string';
}

/** POSTs one JSON body; resolves to an error text or undefined on 2xx. */
export function postJson(url: string, body: Buffer, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve('bad URL');
      return;
    }
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(u, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length), 'user-agent': 'cordon-alerts' }, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300 ? undefined : `status ${res.statusCode ?? '?'}`));
      res.on('error', () => resolve('response error'));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end(body);
  });
}

export class AlertSink {
  readonly #o: Required<Omit<AlertOptions, 'log' | 'select'>> & Pick<AlertOptions, 'log' | 'select'>;
  readonly #queue: AlertEvent[] = [];
  #dropped = 0;
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #closed = false;
  #unsubscribe: (() => void) | undefined;
  /** Batches delivered and given up (tests, diagnostics). */
  delivered = 0;
  failed = 0;

  constructor(o: AlertOptions) {
    this.#o = { batchMs: 1000, maxBatch: 100, maxQueue: 1000, attempts: 5, backoffMs: 500, timeoutMs: 5000, ...o };
  }

  /** Starts receiving decisions from the decision channel. */
  subscribe(): this {
    this.#unsubscribe ??= onDecision((m) => {
      if (looksLikeDecision(m)) this.push(m);
    });
    return this;
  }

  /** Queues an event if it is an alert; never blocks, never throws. */
  push(e: DecisionEvent): void {
    if (this.#closed || !(this.#o.select ?? isEgressDeny)(e)) return;
    this.#queue.push({ ...e, ts: new Date().toISOString() });
    while (this.#queue.length > this.#o.maxQueue) {
      this.#queue.shift();
      this.#dropped += 1;
    }
    if (this.#queue.length >= this.#o.maxBatch) this.#kick(0);
    else this.#kick(this.#o.batchMs);
  }

  #kick(ms: number): void {
    if (this.#sending !== undefined) return;
    if (this.#timer !== undefined && ms > 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sending = this.#drain().finally(() => {
        this.#sending = undefined;
        if (this.#queue.length > 0 && !this.#closed) this.#kick(this.#o.batchMs);
      });
    }, ms);
    this.#timer.unref();
  }

  async #drain(deadline = Number.POSITIVE_INFINITY): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#o.maxBatch);
      const dropped = this.#dropped;
      this.#dropped = 0;
      const body = Buffer.from(JSON.stringify({ source: 'cordon', session: this.#o.session, events: batch, dropped }));
      let ok = false;
      for (let attempt = 0; attempt < this.#o.attempts && Date.now() < deadline; attempt += 1) {
        if (attempt > 0) await sleep(Math.min(30_000, this.#o.backoffMs * 2 ** (attempt - 1), Math.max(0, deadline - Date.now())));
        const err = await postJson(this.#o.url, body, Math.min(this.#o.timeoutMs, Math.max(1, deadline - Date.now())));
        if (err === undefined) {
          ok = true;
          break;
        }
        this.#o.log?.(`alert webhook: ${err}`);
      }
      if (ok) this.delivered += 1;
      else {
        this.failed += 1;
        this.#dropped += batch.length + dropped;
        (this.#o.log ?? ((l: string) => void process.stderr.write(`cordon: ${l}\n`)))(`alert webhook ${redactUrl(this.#o.url)} unreachable; ${batch.length} alert(s) dropped (they are in the audit log)`);
        if (Date.now() >= deadline) return;
      }
    }
  }

  /** Stops receiving, then tries to deliver what is queued within `graceMs`. Never throws. */
  async close(graceMs = 2000): Promise<void> {
    this.#unsubscribe?.();
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const deadline = Date.now() + graceMs;
    // The grace timer is referenced: the process stays up for at most `graceMs` to deliver.
    await Promise.race([(this.#sending ?? Promise.resolve()).then(() => this.#drain(deadline)), sleep(graceMs, true)]).catch(() => undefined);
  }
}

function sleep(ms: number, ref = false): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    if (!ref) t.unref();
  });
}

/** The URL without credentials, query or fragment, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Starts the webhook sink for a run (subscribed to the decision channel). */
export function startAlerts(o: AlertOptions): AlertSink {
  return new AlertSink(o).subscribe();
}
