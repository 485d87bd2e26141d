/**
 * Supervisor side of the egress proxy process: spawn it with an empty
 * environment, configure it, check it loaded the same policy, hand it
 * listeners, republish its decisions on the audit channel, and report when it
 * dies (the caller ends the run: fail closed).
 */
import { processEntry } from '../process-entry.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import type { AskInput } from '../approval/request.js';
import type { ProxyCredentials } from '../broker/ipc.js';
import { publishDecision } from '../audit/publish.js';
import { CordonError } from '../errors.js';
import type { FingerprintMatcherData } from '../dlp/fingerprint.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { SandboxTrust } from './sandbox-trust.js';
import { FromProxySchema, type FromProxy, type ProxyLoadOptions, type ToProxy } from './ipc-messages.js';
import type { ListenerKind } from './proxy-server.js';

export interface ProxyProcess {
  readonly pid: number | undefined;
  /** Hands a listening server to the proxy; resolves when the proxy serves it. */
  attach(server: Server, kind: ListenerKind): Promise<void>;
  /** The session CA certificate (PEM) when the proxy inspects TLS: to be trusted inside the sandbox only. */
  readonly caPem: string | undefined;
  /** Resolves with a one-line description when the proxy process exits. */
  readonly exited: Promise<string>;
  stop(): void;
}

/** The load options that make the proxy load exactly the files the supervisor's policy came from. */
export function proxyLoadOptions(policy: LoadedPolicy, profile: string | undefined): ProxyLoadOptions {
  const src = policy.sources;
  const one = (scope: string): string | null => src.find((s) => s.scope === scope)?.file ?? null;
  return {
    workspace: policy.context.workspace,
    home: policy.context.home,
    managedFile: one('managed'),
    userFile: one('user'),
    projectFile: one('project'),
    files: src.filter((s) => s.scope === 'cli').map((s) => s.file),
    ...(profile === undefined ? {} : { profile }),
  };
}

export interface SpawnProxyOptions {
  readonly profile?: string;
  readonly reportOnly?: boolean;
  readonly startTimeoutMs?: number;
  /** DLP scanning of requests (default on). */
  readonly dlp?: boolean;
  /** Fingerprints of the user's known secrets (from `KnownSecretSet.matcher().toJSON()`): never the values. */
  readonly known?: FingerprintMatcherData;
  /**
   * Extra CA certificates (PEM) the proxy trusts for upstream servers besides
   * the system store (default: the file named by CORDON_EGRESS_EXTRA_CA, if set).
   */
  readonly upstreamCa?: string;
  /** Where the session CA is installed for the sandbox (with TLS inspection on). */
  readonly trust?: SandboxTrust;
  /** The approval service: `ask` requests are held in the proxy until it answers (absent: an ask is refused at once). */
  readonly approve?: (ask: AskInput) => Promise<{ readonly approved: boolean; readonly id: string; readonly reason: string }>;
  /** The credential broker: its socket and the placeholders with their hosts and headers (no values). */
  readonly credentials?: ProxyCredentials;
}

/** The extra upstream CA: the option, else the file CORDON_EGRESS_EXTRA_CA names (unreadable: an error, never ignored). */
export function upstreamCa(o: SpawnProxyOptions): string | undefined {
  if (o.upstreamCa !== undefined) return o.upstreamCa;
  const file = process.env.CORDON_EGRESS_EXTRA_CA;
  if (file === undefined || file === '') return undefined;
  try {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    return text;
  } catch (e) {
    throw new CordonError('CORDON_EGRESS_PROXY', `CORDON_EGRESS_EXTRA_CA=${file}: ${e instanceof Error ? e.message : 'unreadable'}; fix or unset it`);
  }
}

export async function spawnProxyProcess(policy: LoadedPolicy, o: SpawnProxyOptions = {}): Promise<ProxyProcess> {
  const extraCa = upstreamCa(o);
  const { file, execArgv } = processEntry('egress/proxy-process', 'CORDON_EGRESS_PROXY', 'egress proxy');
  const child: ChildProcess = spawn(process.execPath, [...execArgv, file], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: process.env.CORDON_NO_SPLICE === '1' ? { CORDON_NO_SPLICE: '1' } : {} });
  const waiters = new Map<string, () => void>();
  let ready: ((rules: number) => void) | undefined;
  let caPem: string | undefined;
  let fatalMessage: string | undefined;
  child.on('message', (raw: unknown) => {
    const r = FromProxySchema.safeParse(raw);
    if (!r.success) {
      child.kill('SIGKILL');
      return;
    }
    const m: FromProxy = r.data;
    switch (m.type) {
      case 'decision':
        publishDecision(m.event);
        break;
      case 'ready':
        caPem = m.ca;
        ready?.(m.rules);
        break;
      case 'attached':
        waiters.get(m.kind)?.();
        break;
      case 'fatal':
        fatalMessage = m.message;
        break;
      case 'approval': {
        const answer = (approved: boolean, id: string, reason: string): void => {
          if (child.connected) send({ type: 'approval-answer', rid: m.rid, approved, id, reason });
        };
        if (o.approve === undefined) {
          answer(false, 'none', 'No approval service is running; an ask is a deny.');
          break;
        }
        o.approve(m.ask).then(
          (out) => answer(out.approved, out.id, out.reason),
          (e: unknown) => answer(false, 'none', `The approval service failed (${e instanceof Error ? e.message : 'error'}); denied.`),
        );
        break;
      }
    }
  });
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(fatalMessage ?? (signal === null ? `exit status ${code ?? '?'}` : `killed by ${signal}`)));
    child.once('error', (e) => resolve(e.message));
  });
  const send = (m: ToProxy, handle?: Server): void => {
    child.send(m, handle);
  };
  const timeout = o.startTimeoutMs ?? 15_000;
  const rules = await Promise.race([
    new Promise<number>((resolve) => {
      ready = resolve;
      send({ type: 'config', load: proxyLoadOptions(policy, o.profile), reportOnly: o.reportOnly === true, dlp: o.dlp !== false, ...(o.known === undefined ? {} : { known: o.known }), ...(extraCa === undefined ? {} : { upstreamCa: extraCa }), ...(o.approve === undefined ? {} : { approvals: true }), ...(o.credentials === undefined ? {} : { credentials: o.credentials }) });
    }),
    exited.then((why) => Promise.reject(new CordonError('CORDON_EGRESS_PROXY', `the egress proxy did not start (${why})`))),
    new Promise<never>((_, reject) => setTimeout(() => reject(new CordonError('CORDON_EGRESS_PROXY', `the egress proxy did not start within ${timeout} ms`)), timeout).unref()),
  ]).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw e;
  });
  if (rules !== policy.rules.length) {
    child.kill('SIGKILL');
    throw new CordonError('CORDON_EGRESS_PROXY', `the egress proxy loaded a different policy (${rules} rules, expected ${policy.rules.length}); did a policy file change? Nothing was run.`);
  }
  if (o.trust !== undefined) {
    await o.trust.install(caPem ?? '').catch((e: unknown) => {
      child.kill('SIGKILL');
      throw e instanceof CordonError ? e : new CordonError('CORDON_EGRESS_PROXY', `the session CA could not be installed for the sandbox (${e instanceof Error ? e.message : String(e)})`);
    });
  }
  return {
    pid: child.pid,
    caPem,
    exited,
    stop: () => void child.kill('SIGTERM'),
    attach: (server, kind) =>
      Promise.race([
        new Promise<void>((resolve) => {
          waiters.set(kind, resolve);
          send({ type: 'listener', kind }, server);
        }),
        exited.then((why) => Promise.reject(new CordonError('CORDON_EGRESS_PROXY', `the egress proxy stopped (${why})`))),
      ]),
  };
}
