/**
 * The stdio transport: the agent talks to cordon on stdin/stdout as if it
 * were the server; cordon talks to the real server over its pipes. Both
 * directions are framed with the bounded framer and respect backpressure
 * (a slow reader pauses the writer's source), so no queue grows without
 * bound.
 */
import type { Readable, Writable } from 'node:stream';
import { LineFramer } from './framing.js';
import { McpGateway } from './gateway.js';
import { DEFAULT_LIMITS } from './limits.js';
import type { GatewayOptions } from './options.js';
import type { ServerProcess } from './spawn.js';
import { optimiseSooner } from '../tier-up.js';

/** How long a server may take to exit after its client closed the connection before it gets SIGTERM. */
export const SHUTDOWN_GRACE_MS = 5_000;

export interface StdioBridge {
  readonly gateway: McpGateway;
  /** Resolves with the server's exit status once both sides are finished. */
  readonly done: Promise<number>;
}

function writer(out: Writable, source: Readable): (line: string) => void {
  let broken = false;
  out.on('error', () => {
    broken = true;
  });
  out.on('drain', () => source.resume());
  return (line) => {
    if (broken || out.destroyed || out.writableEnded) return;
    if (!out.write(`${line}\n`)) source.pause();
  };
}

export function bridgeStdio(opts: GatewayOptions, server: ServerProcess, clientIn: Readable, clientOut: Writable): StdioBridge {
  const max = opts.limits?.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes;
  // This process now serves messages one at a time until the session ends: its per-message path is compiled early.
  optimiseSooner();
  const gateway = new McpGateway(opts, {
    toClient: writer(clientOut, server.stdout),
    toServer: writer(server.stdin, clientIn),
  });
  const fromClient = new LineFramer(max);
  const fromServer = new LineFramer(max);
  clientIn.on('data', (chunk: Buffer) => {
    for (const ev of fromClient.push(chunk)) gateway.fromClient(ev);
  });
  // The client is gone: close the server's input, as the MCP stdio shutdown says, and if the server
  // has not exited within the grace period, SIGTERM it (a server that ignores end of input would
  // otherwise keep this process, and itself, alive for ever).
  let graceTimer: NodeJS.Timeout | undefined;
  const clientGone = (): void => {
    server.stdin.end();
    graceTimer ??= setTimeout(() => server.kill(), SHUTDOWN_GRACE_MS);
  };
  clientIn.on('end', () => {
    for (const ev of fromClient.end()) gateway.fromClient(ev);
    clientGone();
  });
  clientIn.on('error', clientGone);
  server.stdout.on('data', (chunk: Buffer) => {
    for (const ev of fromServer.push(chunk)) gateway.fromServer(ev);
  });
  const serverEnded = new Promise<void>((resolve) => {
    server.stdout.on('end', () => {
      for (const ev of fromServer.end()) gateway.fromServer(ev);
      resolve();
    });
    server.stdout.on('error', () => resolve());
  });
  const done = server.exited.then(async (status) => {
    clearTimeout(graceTimer);
    await Promise.race([serverEnded, new Promise((r) => setTimeout(r, 200))]);
    gateway.serverClosed(`exit status ${status}`);
    // Nothing can be served any more: stop reading the client, so this process ends with its server
    // (a SIGTERM, a crash) instead of living on for as long as the client keeps its pipe open.
    clientIn.destroy();
    return status;
  });
  return { gateway, done };
}
