/**
 * Boundaries publish their decisions here; the audit writer subscribes and is
 * the only code that writes the log (STYLE.md item 7: publish, don't import
 * sinks).
 */
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { DecisionEvent } from './record.js';

export const DECISION_CHANNEL = 'cordon:decision';

/**
 * Publishes one decision. Returns false, doing no work beyond one check, when
 * nobody subscribes (no audit writer is running in this process); a boundary
 * that must not decide unaudited can act on that.
 */
export function publishDecision(event: DecisionEvent): boolean {
  const ch = channel(DECISION_CHANNEL);
  if (!ch.hasSubscribers) return false;
  ch.publish(event);
  return true;
}

/** Subscribes a handler to decisions; returns the function that unsubscribes it. */
export function onDecision(handler: (message: unknown) => void): () => void {
  const listener = (message: unknown): void => {
    handler(message);
  };
  subscribe(DECISION_CHANNEL, listener);
  return () => {
    unsubscribe(DECISION_CHANNEL, listener);
  };
}
