/**
 * Starting a stdio MCP server: from an argv array (never a shell string),
 * with a scrubbed environment plus only the variables configured for it, in
 * its own sandbox unless that was turned off. Each start is an audit record
 * naming the environment variables given (never their values).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { CordonError } from '../errors.js';
import { scrubEnvironment } from '../sandbox/env.js';
import { runSandboxed } from '../sandbox/runner.js';
import type { SandboxSpec } from '../sandbox/spec.js';
import { mcpEvent, type AuditSink } from './audit.js';

export interface ServerLaunch {
  readonly server: string;
  readonly argv: readonly string[];
  /** Variables configured for this server; added to the scrubbed environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** The server's sandbox, or null to run it unsandboxed (recorded). */
  readonly sandbox: SandboxSpec | null;
}

export interface ServerProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Resolves with the exit status (128+N for a signal). */
  readonly exited: Promise<number>;
  kill(): void;
}

/** The environment a server gets: the scrubbed allowlist of ours, then its configured variables. */
export function serverEnvironment(parent: NodeJS.ProcessEnv, configured: Readonly<Record<string, string>>): Record<string, string> {
  return { ...scrubEnvironment(parent).env, ...configured };
}

function plain(l: ServerLaunch, env: Record<string, string>): ServerProcess {
  const [cmd, ...args] = l.argv;
  if (cmd === undefined) throw new CordonError('CORDON_USAGE', 'no server command given; write cordon mcp wrap -- CMD [ARGS...]');
  const child = spawn(cmd, args, { cwd: l.cwd, env, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number>((resolve) => {
    child.once('error', (e) => {
      process.stderr.write(`cordon mcp: cannot start ${cmd}: ${e.message}\n`);
      resolve(127);
    });
    child.once('close', (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : signalNumber(signal))));
  });
  // SIGTERM, then SIGKILL if it is still there 3 s later (as the sandboxed path's supervisor does): a server that
  // ignores SIGTERM must not keep the gateway alive.
  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, 3000);
    t.unref();
    void exited.then(() => clearTimeout(t));
  };
  return { stdin: child.stdin, stdout: child.stdout, exited, kill };
}

function signalNumber(s: NodeJS.Signals): number {
  return s === 'SIGKILL' ? 9 : s === 'SIGTERM' ? 15 : s === 'SIGINT' ? 2 : 1;
}

async function sandboxed(l: ServerLaunch, spec: SandboxSpec, env: Record<string, string>): Promise<ServerProcess> {
  const abort = new AbortController();
  let resolveChild: (c: ChildProcess) => void = () => undefined;
  const spawned = new Promise<ChildProcess>((r) => {
    resolveChild = r;
  });
  const run = runSandboxed({ ...spec, env: { ...spec.env, ...env } }, l.argv, {
    stdio: ['pipe', 'pipe', 'inherit'],
    signal: abort.signal,
    watch: false,
    onSpawn: (c) => resolveChild(c),
  });
  const first = await Promise.race([spawned, run]);
  if (!('stdin' in first)) {
    throw new CordonError('CORDON_MCP_SERVER', `the sandbox for MCP server ${l.server} did not start: ${first.error?.message ?? `status ${first.exitCode}`}`);
  }
  const child = first;
  if (child.stdin === null || child.stdout === null) throw new CordonError('CORDON_INTERNAL', 'the sandboxed server has no stdio pipes');
  const exited = run.then((r) => {
    if (r.error !== undefined) process.stderr.write(`cordon mcp: ${r.error.message}\n`);
    return r.exitCode;
  });
  return { stdin: child.stdin, stdout: child.stdout, exited, kill: () => abort.abort() };
}

export async function startServer(l: ServerLaunch, audit: AuditSink, parentEnv: NodeJS.ProcessEnv = process.env): Promise<ServerProcess> {
  const env = serverEnvironment(parentEnv, l.env);
  const names = Object.keys(l.env).sort();
  const how = l.sandbox === null ? 'without a sandbox (turned off in the configuration)' : `in its own sandbox (workspace ${l.sandbox.workspace}, network ${l.sandbox.network.mode})`;
  const given = names.length === 0 ? 'no configured environment variables' : `configured variables ${names.join(', ')}`;
  audit(mcpEvent(`mcp__${l.server} spawn ${JSON.stringify(l.argv)}`, 'allow', `mcp server ${l.server}`, `started ${how}, with a scrubbed environment and ${given}`));
  return l.sandbox === null ? plain(l, env) : sandboxed(l, l.sandbox, env);
}
