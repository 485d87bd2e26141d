/**
 * Entry point of the egress proxy process started by `cordon run`. It is
 * spawned with an empty environment (only CORDON_NO_SPLICE=1 is passed on,
 * to troubleshoot the zero-copy relay) and an IPC channel; it reads no secret,
 * loads the same policy files the supervisor resolved, serves the listeners
 * it is handed, and sends every decision back to the supervisor (which owns
 * the audit log). If the supervisor goes away, the proxy exits.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:net';
import { loadPolicyCached } from '../policy/cache.js';
import { createRequestScanner } from '../dlp/proxy-scanner.js';
import { FingerprintMatcher } from '../dlp/fingerprint.js';
import { CredentialScanner } from '../broker/credential-scanner.js';
import { NOOP_SCANNER } from './scanner.js';
import { Policy } from '../policy/policy.js';
import type { AskInput } from '../approval/request.js';
import { FromProxySchema, ToProxySchema, type FromProxy } from './ipc-messages.js';
import { startProxy, type RunningProxy, type TlsOptions } from './proxy-server.js';
import { SessionCa } from './tls-ca.js';

function send(m: FromProxy): void {
  if (process.connected) process.send?.(FromProxySchema.parse(m));
}

function fatal(message: string): never {
  send({ type: 'fatal', message });
  process.stderr.write(`cordon proxy: ${message}\n`);
  process.exit(70);
}

if (typeof process.send !== 'function') {
  process.stderr.write('cordon proxy: proxy-process must be started by cordon with an IPC channel (use `cordon proxy` to run one alone)\n');
  process.exit(2);
}

let proxy: RunningProxy | undefined;
/** Requests held for a person, by request id; the supervisor answers each (its going away ends this process). */
const held = new Map<number, (o: { approved: boolean; id: string; reason: string }) => void>();
let nextRid = 1;
function approve(ask: AskInput): Promise<{ approved: boolean; id: string; reason: string }> {
  return new Promise((resolve) => {
    const rid = nextRid++;
    held.set(rid, resolve);
    send({ type: 'approval', rid, ask });
  });
}
process.on('disconnect', () => process.exit(0));
process.on('message', (raw: unknown, handle: unknown) => {
  const parsed = ToProxySchema.safeParse(raw);
  if (!parsed.success) fatal('unexpected message from the supervisor');
  const m = parsed.data;
  switch (m.type) {
    case 'config': {
      if (proxy !== undefined) fatal('configured twice');
      const { profile, ...load } = m.load;
      const reportOnly = m.reportOnly;
      loadPolicyCached({ ...load, ...(profile === undefined ? {} : { profile }) })
        .then(async (loaded) => {
          const policy = new Policy(loaded);
          const known = m.known === undefined ? undefined : FingerprintMatcher.fromJSON(m.known);
          const dlp = m.dlp ? createRequestScanner(known === undefined ? {} : { known }) : undefined;
          // Credential placeholders: routed to the broker where they belong, refused anywhere else (even with DLP off).
          const scanner = m.credentials === undefined ? dlp : new CredentialScanner(dlp ?? NOOP_SCANNER, m.credentials);
          // TLS inspection (policy egress.tls, default on): the CA and its key are made here and stay here.
          const t = loaded.settings.egress?.tls;
          const tls: TlsOptions | undefined = t?.inspect === false ? undefined : {
            ca: await SessionCa.create(randomBytes(4).toString('hex')),
            ...(t?.passthrough === undefined ? {} : { passthrough: t.passthrough }),
            ...(m.upstreamCa === undefined ? {} : { extraCa: m.upstreamCa }),
          };
          proxy = await startProxy({ policy, reportOnly, ...(scanner === undefined ? {} : { scanner }), ...(tls === undefined ? {} : { tls }), publish: (event) => send({ type: 'decision', event }), ...(m.approvals === true ? { approve } : {}) });
          send({ type: 'ready', rules: loaded.rules.length, ...(tls === undefined ? {} : { ca: tls.ca.certPem }) });
        })
        .catch((e: unknown) => fatal(`the proxy could not start: ${e instanceof Error ? e.message : String(e)}`));
      break;
    }
    case 'listener': {
      if (proxy === undefined) fatal('listener before config');
      if (typeof handle !== 'object' || handle === null || !('listen' in handle)) fatal('listener message without a server handle');
      proxy.attach(handle as Server, m.kind);
      send({ type: 'attached', kind: m.kind });
      break;
    }
    case 'approval-answer': {
      const resolve = held.get(m.rid);
      held.delete(m.rid);
      resolve?.({ approved: m.approved, id: m.id, reason: m.reason });
      break;
    }
  }
});
