/**
 * Entry point of the MCP gateway process started by `cordon run`: outside
 * the sandbox, with a scrubbed environment (plus only the variables its
 * servers' configured headers name), an IPC channel to the supervisor. It
 * loads the same policy files, starts every configured server (each stdio
 * one in its own sandbox), serves the listener made inside the agent's
 * sandbox, and sends every decision to the supervisor, which owns the audit
 * log. A call the policy asks about is sent to the supervisor's approval
 * service (`ask`) and held until its `verdict`. If the supervisor goes away,
 * held calls are denied, and it stops its servers and exits. If the
 * supervisor's audit log cannot be written (`audit-failed`), held calls are
 * denied and every later call is refused, never forwarded (fail closed).
 */
import type { Server } from 'node:net';
import { onDecision } from '../../audit/publish.js';
import { DecisionEventSchema } from '../../audit/record.js';
import { FingerprintMatcher } from '../../dlp/fingerprint.js';
import { loadPolicyCached } from '../../policy/cache.js';
import { publishSink } from '../audit.js';
import type { McpApprover } from '../call-policy.js';
import { dlpArgumentScanner } from '../dlp-argument-scanner.js';
import { startHttpGateway, type RunningGateway } from '../http/serve.js';
import { FromGatewaySchema, ToGatewaySchema, type FromGateway } from './ipc.js';

function send(m: FromGateway): void {
  if (process.connected) process.send?.(FromGatewaySchema.parse(m));
}

function fatal(message: string): never {
  send({ type: 'fatal', message });
  process.stderr.write(`cordon mcp: ${message}\n`);
  process.exit(70);
}

if (typeof process.send !== 'function') {
  process.stderr.write('cordon mcp: gateway-process must be started by cordon run (use `cordon mcp serve` to run a gateway alone)\n');
  process.exit(2);
}

let gateway: RunningGateway | undefined;
/** False once the supervisor said its audit log cannot be written: calls are refused from then on, never forwarded unrecorded. */
let auditOk = true;

/** Calls held for a person's answer, by sequence number; a gone supervisor denies them all. */
const held = new Map<number, (o: { approved: boolean; id: string; reason: string }) => void>();
let seq = 0;
const approve: McpApprover = (ask, signal) => new Promise((resolve) => {
  if (!process.connected) {
    resolve({ approved: false, id: 'none', reason: 'The supervisor is gone; an ask is a deny.' });
    return;
  }
  const n = ++seq;
  held.set(n, resolve);
  try {
    send({ type: 'ask', seq: n, ask });
    // Withdrawn: the supervisor withdraws the approval (its verdict, a deny, then settles this).
    signal?.addEventListener('abort', () => send({ type: 'withdraw', seq: n }), { once: true });
  } catch (e) {
    held.delete(n);
    resolve({ approved: false, id: 'none', reason: `The call could not be sent for approval (${e instanceof Error ? e.message.slice(0, 200) : 'error'}); an ask is a deny.` });
  }
});
const denyHeld = (reason: string): void => {
  for (const [n, resolve] of [...held]) {
    held.delete(n);
    resolve({ approved: false, id: 'none', reason });
  }
};
onDecision((event) => {
  const e = DecisionEventSchema.safeParse(event);
  if (e.success) send({ type: 'decision', event: e.data });
});
const stop = (): void => {
  void (gateway?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('disconnect', () => {
  denyHeld('The supervisor went away before an answer; an ask is a deny.');
  // After those refusals went out (the held calls settle in microtasks): stopping first would withdraw them with another reason.
  setImmediate(stop);
});
process.on('SIGTERM', stop);
process.on('message', (raw: unknown, handle: unknown) => {
  const parsed = ToGatewaySchema.safeParse(raw);
  if (!parsed.success) fatal('unexpected message from the supervisor');
  const m = parsed.data;
  switch (m.type) {
    case 'config': {
      if (gateway !== undefined) fatal('configured twice');
      const { profile, ...load } = m.load;
      loadPolicyCached({ ...load, ...(profile === undefined ? {} : { profile }) })
        .then(async (loaded) => {
          const known = m.known === undefined ? undefined : FingerprintMatcher.fromJSON(m.known);
          gateway = await startHttpGateway(loaded, {
            target: { kind: 'all' }, token: m.token, publicPort: m.port, argumentScanners: [dlpArgumentScanner(known)],
            audit: publishSink, auditReady: () => auditOk, log: (l) => process.stderr.write(`${l}\n`), cwd: m.cwd, env: process.env, pinDir: m.pinDir,
            ...(m.approvals === true ? { approve } : {}),
            ...(m.credentials === undefined ? {} : { broker: m.credentials }),
          });
          send({ type: 'ready', servers: [...gateway.servers] });
        })
        .catch((e: unknown) => fatal(`the MCP gateway could not start: ${e instanceof Error ? e.message : String(e)}`));
      break;
    }
    case 'listener': {
      if (gateway === undefined) fatal('listener before the gateway was ready');
      if (typeof handle !== 'object' || handle === null || !('listen' in handle)) fatal('listener message without a server handle');
      gateway.front.adopt(handle as Server);
      send({ type: 'attached' });
      break;
    }
    case 'audit-failed': {
      if (auditOk) process.stderr.write('cordon mcp: the audit log cannot be written any more; every call is refused from now on\n');
      auditOk = false;
      // A call held for approval would be forwarded unrecorded once answered: refused now.
      denyHeld('cordon cannot record decisions any more (the audit log could not be written); an ask is a deny.');
      break;
    }
    case 'verdict': {
      const resolve = held.get(m.seq);
      held.delete(m.seq);
      resolve?.({ approved: m.approved, id: m.id, reason: m.reason });
      break;
    }
  }
});
