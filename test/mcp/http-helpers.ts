/** Set-up for the Streamable HTTP gateway tests: real upstream servers on loopback and the real SDK client. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Policy } from '../../src/policy/policy.js';
import { loadPolicy } from '../../src/policy/load.js';
import type { GatewayOptions } from '../../src/mcp/options.js';
import { PinStore } from '../../src/mcp/pin-store.js';
import { cordonAsync } from '../cli-helpers.js';
import { EVERYTHING, fixture, type Env } from './helpers.js';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const a = s.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Running {
  readonly url: URL;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a server process and waits until `ready` appears in its output. */
export async function startProcess(argv: readonly string[], env: NodeJS.ProcessEnv, ready: RegExp, url: URL): Promise<Running> {
  const [cmd, ...args] = argv;
  const child = spawn(cmd ?? 'false', args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const on = (d: Buffer): void => {
      out += d.toString();
      if (ready.test(out)) resolve();
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (c) => reject(new Error(`${argv.join(' ')} exited (${c}): ${out}`)));
    setTimeout(() => reject(new Error(`timeout starting ${argv.join(' ')}: ${out}`)), 20_000).unref();
  });
  return {
    url, child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
  };
}

export async function startEverythingHttp(): Promise<Running> {
  const port = await freePort();
  return startProcess([process.execPath, EVERYTHING, 'streamableHttp'], { PORT: String(port) }, /listening on port/i, new URL(`http://127.0.0.1:${port}/mcp`));
}

/** test/mcp/fixtures/evil-http-server.mjs on a free loopback port (`extraEnv`: e.g. AUTH_LOG). */
export async function startEvilHttp(extraEnv: NodeJS.ProcessEnv = {}): Promise<Running> {
  const port = await freePort();
  return startProcess([process.execPath, fixture('evil-http-server.mjs')], { PORT: String(port), ...extraEnv }, /listening/, new URL(`http://127.0.0.1:${port}/mcp`));
}

export function gatewayOptions(env: Env, server: string, extra: Partial<GatewayOptions> = {}): GatewayOptions {
  const loaded = loadPolicy({ workspace: env.workspace, managedFile: null, userFile: null, home: env.base });
  return { server, launch: [server], policy: new Policy(loaded), pins: new PinStore(`${env.state}/pins`), log: () => undefined, ...extra };
}

export async function sdkClient(url: string, token: string | null, headers: Record<string, string> = {}): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers } } });
  const client = new Client({ name: 'cordon-http-test', version: '0.0.0' });
  await client.connect(transport);
  return client;
}

export function textOf(r: unknown): string {
  const content = (r as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

/** One raw POST to the gateway (for what the SDK client will not send). */
export async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; headers: Headers; text: string }> {
  const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

export interface Serving {
  readonly serve: ReturnType<typeof cordonAsync>;
  readonly url: string;
  readonly token: string;
  readonly servers: readonly string[];
}

/** `cordon mcp serve` (every server of `env`'s policy) as a real process: resolves with what its first line says; rejects if it exits first. */
export async function startServe(env: Env, extraEnv: NodeJS.ProcessEnv = {}): Promise<Serving> {
  const serve = cordonAsync(['mcp', 'serve'], env.workspace, { XDG_STATE_HOME: env.state, HOME: env.base, ...extraEnv });
  let out = '';
  while (!out.includes('\n')) {
    const [chunk] = (await Promise.race([once(serve.child.stdout, 'data'), serve.done.then((r) => { throw new Error(`serve exited ${r.status}: ${r.stderr}`); })])) as [Buffer];
    out += chunk.toString();
  }
  const info = JSON.parse(out.split('\n')[0] ?? '') as { url: string; token: string; servers: string[] };
  return { serve, url: info.url, token: info.token, servers: info.servers };
}
