/**
 * Supervisor side of the in-sandbox listener hand-off: receive the two
 * listening sockets the helper created inside the sandbox's network
 * namespace, give them to whoever serves them (the egress proxy process),
 * close our own copies, and tell the helper to start the command. Any failure
 * or a deadline kills the sandbox: the command never runs without its proxy.
 */
import type { ChildProcess } from 'node:child_process';
import type { Server } from 'node:net';
import { CordonError } from '../errors.js';

export interface SandboxListeners {
  readonly http: Server;
  readonly socks: Server;
}

/** Called with the listeners; resolves once they are served elsewhere. */
export type ListenerSink = (listeners: SandboxListeners) => Promise<void>;

function isListenerMessage(m: unknown): m is { cordon: 'listener'; kind: 'http' | 'socks' } {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return r.cordon === 'listener' && (r.kind === 'http' || r.kind === 'socks');
}

export function handOffListeners(child: ChildProcess, sink: ListenerSink, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const got: Partial<Record<'http' | 'socks', Server>> = {};
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.off('message', onMessage);
      for (const s of Object.values(got)) s.close();
      reject(new CordonError('CORDON_EGRESS_PROXY', `network set-up failed: ${why}; the command was not started`));
    };
    const timer = setTimeout(() => fail('the sandbox did not hand over its proxy listeners in time'), timeoutMs);
    const onMessage = (m: unknown, handle: unknown): void => {
      if (!isListenerMessage(m) || typeof handle !== 'object' || handle === null || !('listen' in handle)) return;
      const server = handle as Server;
      // Our copy would accept connections too; the helper waits for 'go', so none arrive before it is closed.
      server.on('connection', (s) => s.destroy());
      got[m.kind] = server;
      if (got.http === undefined || got.socks === undefined) return;
      const listeners: SandboxListeners = { http: got.http, socks: got.socks };
      clearTimeout(timer);
      child.off('message', onMessage);
      sink(listeners).then(
        () => {
          listeners.http.close();
          listeners.socks.close();
          if (settled) return;
          settled = true;
          child.send({ cordon: 'go' }, (e) => (e ? reject(new CordonError('CORDON_EGRESS_PROXY', `network set-up failed: ${e.message}`)) : resolve()));
        },
        (e: unknown) => fail(e instanceof Error ? e.message : String(e)),
      );
    };
    child.on('message', onMessage);
    child.once('exit', () => fail('the sandbox exited during network set-up'));
  });
}
