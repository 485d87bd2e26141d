/**
 * Records of one gateway in the order its decisions were made, with the
 * record of an allowed call optionally built after the call is forwarded,
 * off the reply's critical path. `later` queues it for after the event
 * loop's next poll: a response the server sent while cordon was still busy
 * with the request (on a loaded machine the server often runs on cordon's
 * core the moment the request is written) is forwarded first, and the record
 * then costs the reply nothing. Whatever is published through `now` (every
 * refusal, finding and pin record) publishes what is queued first, so the
 * records keep the order of the decisions; `flush` publishes the rest (the
 * gateway calls it when its server goes).
 */
import type { DecisionEvent } from '../audit/record.js';
import type { AuditSink } from './audit.js';

export class AuditQueue {
  readonly #sink: AuditSink;
  readonly #defer: boolean;
  #queue: (() => DecisionEvent)[] = [];
  #scheduled = false;
  readonly #flush = (): void => {
    this.#scheduled = false;
    this.flush();
  };
  /** The second hop: an immediate queued from an immediate runs after the loop's next poll. */
  readonly #afterPoll = (): void => {
    setImmediate(this.#flush);
  };

  constructor(sink: AuditSink, defer: boolean) {
    this.#sink = sink;
    this.#defer = defer;
  }

  /** Publishes the event, after anything queued. */
  now(event: DecisionEvent): boolean {
    if (this.#queue.length > 0) this.flush();
    return this.#sink(event);
  }

  /** Publishes the event built by `make` after the loop's next poll (at once when not deferring). */
  later(make: () => DecisionEvent): void {
    if (!this.#defer) {
      this.now(make());
      return;
    }
    this.#queue.push(make);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#afterPoll);
  }

  /** Publishes everything queued, in order. */
  flush(): void {
    const queued = this.#queue;
    if (queued.length === 0) return;
    this.#queue = [];
    for (const make of queued) this.#sink(make());
  }
}
