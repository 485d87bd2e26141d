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
/** Called with the MCP gateway's in-sandbox listener; resolves once the gateway serves it. */
export type McpListenerSink = (listener: Server) => Promise<void>;

type Kind = 'http' | 'socks' | 'mcp';

function isListenerMessage(m: unknown): m is { cordon: 'listener'; kind: Kind } {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return r.cordon === 'listener' && (r.kind === 'http' || r.kind === 'socks' || r.kind === 'mcp');
}

/** `sink` takes the egress proxy's two listeners (absent: the sandbox has none); `mcpSink` the MCP gateway's. */
export function handOffListeners(child: ChildProcess, sink: ListenerSink | undefined, timeoutMs = 15_000, mcpSink?: McpListenerSink): Promise<void> {
  const expected: Kind[] = [...(sink === undefined ? [] : ['http', 'socks'] as const), ...(mcpSink === undefined ? [] : ['mcp'] as const)];
  return new Promise((resolve, reject) => {
    const got: Partial<Record<Kind, Server>> = {};
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
      if (!expected.includes(m.kind)) {
        server.close();
        return;
      }
      got[m.kind] = server;
      if (expected.some((k) => got[k] === undefined)) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      const { http, socks, mcp } = got;
      Promise.all([
        sink !== undefined && http !== undefined && socks !== undefined ? sink({ http, socks }) : undefined,
        mcpSink !== undefined && mcp !== undefined ? mcpSink(mcp) : undefined,
      ]).then(
        () => {
          for (const s of Object.values(got)) s.close();
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
