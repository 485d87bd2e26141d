/**
 * Boundaries publish their decisions here; the audit writer subscribes and is
 * the only code that writes the log (STYLE.md item 7: publish, don't import
 * sinks).
 *
 * Subscribers registered with `onDecision` live in one process-wide set (kept
 * on `globalThis` under a registered symbol, so two copies of this module in
 * one process, such as a bundle and the library, share it). Decisions are also
 * published on the diagnostics channel `cordon:decision` for outside
 * subscribers; that module is not loaded for it (its first load costs about a
 * millisecond of every `cordon run`): a subscriber must have loaded it, and
 * it is looked up only once something has.
 */
import type { Channel } from 'node:diagnostics_channel';
import type { DecisionEvent } from './record.js';

export const DECISION_CHANNEL = 'cordon:decision';

type Handler = (message: unknown) => void;

const LISTENERS = Symbol.for('cordon.audit.decision-listeners');

function listeners(): Set<Handler> {
  const g = globalThis as { [LISTENERS]?: Set<Handler> };
  return (g[LISTENERS] ??= new Set());
}

let outside: Channel | undefined;

/** The diagnostics channel, once node:diagnostics_channel has been loaded by anyone in this process. */
function outsideChannel(): Channel | undefined {
  if (outside === undefined && (process as unknown as { moduleLoadList?: readonly string[] }).moduleLoadList?.includes('NativeModule diagnostics_channel') !== false) {
    outside = process.getBuiltinModule('node:diagnostics_channel').channel(DECISION_CHANNEL);
  }
  return outside;
}

/**
 * Publishes one decision. Returns false, doing no work beyond one check, when
 * nobody subscribes (no audit writer is running in this process); a boundary
 * that must not decide unaudited can act on that.
 */
export function publishDecision(event: DecisionEvent): boolean {
  let delivered = false;
  for (const handler of listeners()) {
    delivered = true;
    try {
      handler(event);
    } catch (e) {
      // As diagnostics_channel does: one failing subscriber neither stops the others nor the publisher.
      process.nextTick(() => {
        throw e;
      });
    }
  }
  const ch = outsideChannel();
  if (ch?.hasSubscribers === true) {
    ch.publish(event);
    delivered = true;
  }
  return delivered;
}

/** Subscribes a handler to decisions; returns the function that unsubscribes it. */
export function onDecision(handler: (message: unknown) => void): () => void {
  // A wrapper per subscription, so the same handler subscribed twice is two subscriptions.
  const listener: Handler = (message) => {
    handler(message);
  };
  listeners().add(listener);
  return () => {
    listeners().delete(listener);
  };
}
