/**
 * Supervisor side of the credential broker: spawn it with only the
 * environment its sources need (the sources, never values, are sent over
 * IPC), wait for its placeholders and fingerprints, republish its decisions
 * on the audit channel, and report when it dies. Any failure to start is a
 * `CORDON_BROKER` error: the run does not start.
 */
import { processEntry } from '../process-entry.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { publishDecision } from '../audit/publish.js';
import type { FingerprintMatcherData } from '../dlp/fingerprint.js';
import { CordonError } from '../errors.js';
import type { LoadedPolicy } from '../policy/load.js';
import { FromBrokerSchema, type BrokerCredential, type ProxyCredentials } from './ipc.js';
import { sourceEnvName } from './sources.js';

export interface BrokerProcess {
  readonly pid: number | undefined;
  /** Placeholder per credential name: what the sandbox's environment holds. */
  readonly placeholders: Readonly<Record<string, string>>;
  /** What the proxy is told: socket, placeholders, hosts, headers. */
  readonly proxy: ProxyCredentials;
  /** Fingerprints of the real values and placeholders, under the key the supervisor chose. */
  readonly known: FingerprintMatcherData;
  readonly exited: Promise<string>;
  stop(): void;
}

/** Variables a command source may need besides the ones it names (a secret manager CLI finds its config and session through them). */
const COMMAND_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'XDG_CONFIG_HOME', 'XDG_RUNTIME_DIR', 'DBUS_SESSION_BUS_ADDRESS', 'GNUPGHOME', 'SSH_AUTH_SOCK'];

/** The policy's credentials as broker configuration (header names lowercased; default `authorization`). */
export function brokerCredentials(policy: LoadedPolicy): BrokerCredential[] {
  return Object.entries(policy.settings.credentials ?? {}).map(([name, c]) => ({
    name, hosts: [...c.hosts], header: (c.header ?? 'authorization').toLowerCase(), ...(c.source === undefined ? {} : { source: c.source }),
  }));
}

/** Only what the sources read: each env source's variable; for commands and files the few variables listed above. */
export function brokerEnvironment(creds: readonly BrokerCredential[], env: NodeJS.ProcessEnv): Record<string, string> {
  const names = new Set<string>();
  for (const c of creds) {
    const v = sourceEnvName(c.name, c.source);
    if (v !== undefined) names.add(v);
    else if (c.source !== undefined && 'command' in c.source) COMMAND_ENV.forEach((n) => names.add(n));
    else names.add('HOME');
  }
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = env[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}

export interface SpawnBrokerOptions {
  readonly fingerprintKey: Buffer;
  readonly upstreamCa?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly startTimeoutMs?: number;
}

export async function spawnBroker(policy: LoadedPolicy, o: SpawnBrokerOptions): Promise<BrokerProcess | undefined> {
  const creds = brokerCredentials(policy);
  if (creds.length === 0) return undefined;
  if (policy.settings.egress?.tls?.inspect === false) {
    process.stderr.write('cordon: warning: egress.tls.inspect is false, so HTTPS requests are opaque tunnels: credentials are swapped only on plain HTTP to loopback, and a placeholder sent over HTTPS is not seen\n');
  }
  const { file, execArgv } = processEntry('broker/broker-process', 'CORDON_BROKER', 'credential broker');
  // mkdtemp makes the directory 0700; the sandbox has its own /tmp, and nothing binds this one in.
  const socketDir = mkdtempSync(path.join(os.tmpdir(), 'cordon-broker-'));
  const cleanup = (): void => rmSync(socketDir, { recursive: true, force: true });
  const child: ChildProcess = spawn(process.execPath, [...execArgv, file], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: brokerEnvironment(creds, o.env ?? process.env) });
  let fatalMessage: string | undefined;
  let ready: ((m: { socket: string; placeholders: Record<string, string>; known: FingerprintMatcherData }) => void) | undefined;
  child.on('message', (raw: unknown) => {
    const r = FromBrokerSchema.safeParse(raw);
    if (!r.success) {
      child.kill('SIGKILL');
      return;
    }
    const m = r.data;
    switch (m.type) {
      case 'decision':
        publishDecision(m.event);
        break;
      case 'fatal':
        fatalMessage = m.message;
        break;
      case 'ready':
        ready?.(m);
        break;
    }
  });
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(fatalMessage ?? (signal === null ? `exit status ${code ?? '?'}` : `killed by ${signal}`));
    });
    child.once('error', (e) => resolve(e.message));
  });
  const timeout = o.startTimeoutMs ?? 30_000;
  const got = await Promise.race([
    new Promise<{ socket: string; placeholders: Record<string, string>; known: FingerprintMatcherData }>((resolve) => {
      ready = resolve;
      child.send({ type: 'config', credentials: creds, socketDir, fingerprintKey: o.fingerprintKey.toString('hex'), ...(o.upstreamCa === undefined ? {} : { upstreamCa: o.upstreamCa }) });
    }),
    exited.then((why) => Promise.reject(new CordonError('CORDON_BROKER', `the credential broker did not start: ${why}. Nothing was run.`))),
    new Promise<never>((_, reject) => setTimeout(() => reject(new CordonError('CORDON_BROKER', `the credential broker did not start within ${timeout} ms. Nothing was run.`)), timeout).unref()),
  ]).catch((e: unknown) => {
    child.kill('SIGKILL');
    cleanup();
    throw e;
  });
  const missing = creds.filter((c) => got.placeholders[c.name] === undefined);
  if (missing.length > 0 || got.socket !== path.join(socketDir, 'broker.sock')) {
    child.kill('SIGKILL');
    throw new CordonError('CORDON_BROKER', 'the credential broker answered with an unexpected configuration. Nothing was run.');
  }
  return {
    pid: child.pid,
    placeholders: got.placeholders,
    known: got.known,
    proxy: { socket: got.socket, credentials: creds.map((c) => ({ name: c.name, placeholder: got.placeholders[c.name] ?? '', hosts: c.hosts, header: c.header })) },
    exited,
    stop: () => {
      child.kill('SIGTERM');
    },
  };
}

/** Union of two fingerprint sets made under the same key (the supervisor's known secrets and the broker's). */
export function mergeKnown(a: FingerprintMatcherData | undefined, b: FingerprintMatcherData): FingerprintMatcherData {
  if (a === undefined) return b;
  if (a.key !== b.key || a.base !== b.base) throw new CordonError('CORDON_BROKER', 'known-secret fingerprints were made under different keys');
  return { version: 1, key: a.key, base: a.base, fingerprints: { ...a.fingerprints, ...b.fingerprints }, rolling: [...new Set([...a.rolling, ...b.rolling])] };
}
