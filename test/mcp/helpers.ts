/** Shared set-up of the MCP end-to-end tests: a temporary workspace, state dir and a real SDK client through the gateway. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WRAP_ENTRY = path.join(ROOT, 'test/mcp/fixtures/wrap-entry.ts');
export const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
/** tsx's loader by URL: the child runs in the test workspace, where a bare `tsx` does not resolve. */
export const TSX = import.meta.resolve('tsx');
export const fixture = (name: string): string => path.join(ROOT, 'test/mcp/fixtures', name);

export interface Env {
  readonly workspace: string;
  readonly state: string;
  readonly base: string;
  cleanup(): void;
}

export function makeEnv(policyYaml: string): Env {
  const base = mkdtempSync(path.join(tmpdir(), 'cordon-mcp-'));
  const workspace = path.join(base, 'ws');
  const state = path.join(base, 'state');
  mkdirSync(workspace, { recursive: true });
  writeFileSync(path.join(workspace, 'cordon.yaml'), policyYaml);
  return { workspace, state, base, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export interface Wrapped {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  stderr(): string;
  close(): Promise<void>;
}

/** The SDK client over stdio to `args` (run by node through tsx) in `env`'s workspace, with only PATH, HOME and `vars` in its environment. */
async function connect(env: Env, args: readonly string[], vars: Record<string, string>): Promise<Wrapped> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', TSX, ...args],
    cwd: env.workspace,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: env.base, XDG_STATE_HOME: env.state, ...vars },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  const client = new Client({ name: 'cordon-test', version: '0.0.0' });
  await client.connect(transport);
  return { client, transport, stderr: () => err, close: () => client.close() };
}

export function connectThroughGateway(env: Env, server: readonly string[], opts: Record<string, unknown>): Promise<Wrapped> {
  return connect(env, [WRAP_ENTRY, '--', ...server], { CORDON_TEST_WRAP_OPTS: JSON.stringify({ workspace: env.workspace, ...opts }), CORDON_MANAGED_POLICY: path.join(env.base, 'no-managed.yaml') });
}

/**
 * The real CLI (`src/cli/main.ts mcp wrap ARGS...`, through tsx) in front of a server, with the real SDK client, in
 * `env`'s workspace with its own HOME, state directory and no managed policy; `extra` adds environment variables.
 */
export function connectThroughCli(env: Env, args: readonly string[], extra: Record<string, string> = {}): Promise<Wrapped> {
  return connect(env, [path.join(ROOT, 'src/cli/main.ts'), 'mcp', 'wrap', ...args], { CORDON_MANAGED_POLICY: path.join(env.base, 'none.yaml'), XDG_CONFIG_HOME: path.join(env.base, 'xdg'), ...extra });
}
