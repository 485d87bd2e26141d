/**
 * `cordon run`: load the policy (any problem is exit 125, never a fallback),
 * compile it into a sandbox, open the session's audit log, run the command
 * and report what was blocked.
 */
import path from 'node:path';
import type { AlertSink } from '../audit/alerts.js';
import { AuditWriter } from '../audit/writer.js';
import { newSessionId, stateDir } from '../audit/paths.js';
import { publishDecision } from '../audit/publish.js';
import type { AskEndpoint } from '../approval/ask-endpoint.js';
import type { SessionApprovals } from '../approval/session.js';
import type { BrokerProcess } from '../broker/client.js';
import { CordonError } from '../errors.js';
import { insideHookDecisions } from '../hook/inside-records.js';
import { prepareSandboxTrust, type SandboxTrust } from '../egress/sandbox-trust.js';
import type { FingerprintMatcherData } from '../dlp/fingerprint.js';
import { policyKeyMaterial } from '../policy/cache-key.js';
import { nodeCrypto, sha256Hex } from '../lazy-crypto.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { LoadOptions } from '../policy/scopes.js';
import { memoListing } from '../sandbox/dir-listing.js';
import { looksLikeCredential } from '../sandbox/env.js';
import { realizePlan, type SandboxPlan } from '../sandbox/plan.js';
import { readPlan, writePlan } from '../sandbox/plan-cache.js';
import { runSandboxed } from '../sandbox/runner.js';
import type { Speculation } from '../sandbox/early.js';
import type { ListenerSink } from '../sandbox/net-handoff.js';
import type { Violation } from '../sandbox/protect-sweep.js';
import { loadOptions, type PolicyCommonOptions } from './policy-options.js';

export interface RunCommandOptions extends PolicyCommonOptions {
  readonly keepEnv?: string[];
  /** Egress: log would-deny decisions and forward anyway (mandatory denies and address checks still apply). */
  readonly reportOnly?: boolean;
  /** Start even when the policy holds all three trifecta legs and no person can be reached for approvals (logged). */
  readonly acceptTrifecta?: boolean;
}

function violationRecord(engine: PolicyEngine, v: Violation): void {
  const d = engine.decide({ kind: 'Edit', path: v.path });
  const rule = d.rules[0];
  publishDecision({
    boundary: 'sandbox',
    subject: `Edit(${v.path})`,
    decision: 'deny',
    rule: rule === undefined ? `sandbox ${v.kind}` : `deny ${rule.text} (${rule.mandatory === true ? 'mandatory' : rule.origin.scope})`,
    reason: `${v.detail} (${v.action}${v.quarantinedTo === undefined ? '' : ` to ${v.quarantinedTo}`})`,
    mandatory: rule?.mandatory === true,
  });
}

interface Egress {
  readonly sink: ListenerSink;
  readonly abort: AbortController;
  readonly stop: () => void;
  /** Set when the proxy died during the run. */
  failure: string | undefined;
  /** The session CA bundle bound into the sandbox (TLS inspection on). */
  readonly trust: SandboxTrust | undefined;
}

/**
 * Starts the egress proxy process (in parallel with the sandbox: the sandbox's
 * listeners are handed over only once it is ready). If it fails to start, the
 * command never starts; if it dies during the run, the run is aborted.
 */
/** Fingerprints of the user's real secrets for the proxy's DLP; the values stay in this process. */
async function knownSecrets(loaded: LoadedPolicy, scrubbed: readonly string[], key: Buffer, broker: BrokerProcess | undefined): Promise<FingerprintMatcherData | undefined> {
  const { collectKnownSecrets } = await import('../dlp/known-sources.js');
  const ks = loaded.settings.dlp?.known_secrets;
  // The scrubber removes every variable not on its allowlist (HOME, XDG_* paths...); only those whose
  // value looks like a credential are known secrets, or ordinary paths would be flagged in traffic.
  const credentialLike = scrubbed.filter((name) => looksLikeCredential(process.env[name] ?? ''));
  const c = collectKnownSecrets({ env: process.env, scrubbed: credentialLike, ...(ks?.env ? { envGlobs: ks.env } : {}), ...(ks?.files ? { files: ks.files } : {}) });
  for (const p of c.problems) process.stderr.write(`cordon: warning: known secrets file ${p}\n`);
  const own = c.set.size === 0 ? undefined : c.set.matcher(key).toJSON();
  // The broker's fingerprints (real values from every source, and the placeholders) are made under the same key.
  return broker === undefined ? own : (await import('../broker/client.js')).mergeKnown(own, broker.known);
}

function startEgress(loaded: LoadedPolicy, opts: RunCommandOptions, scrubbed: readonly string[], approvals: SessionApprovals | undefined, broker: BrokerProcess | undefined, key: Buffer): Egress {
  let stopping = false;
  const trust = prepareSandboxTrust(loaded);
  const starting = Promise.all([import('../egress/proxy-client.js'), knownSecrets(loaded, scrubbed, key, broker)]).then(([{ spawnProxyProcess }, known]) =>
    spawnProxyProcess(loaded, {
      ...(opts.profile === undefined ? {} : { profile: opts.profile }),
      reportOnly: opts.reportOnly === true,
      dlp: loaded.settings.dlp?.action !== 'report',
      ...(trust === undefined ? {} : { trust }),
      ...(known === undefined ? {} : { known }),
      ...(approvals === undefined ? {} : { approve: (input: Parameters<SessionApprovals['ask']>[0]) => approvals.ask(input) }),
      ...(broker === undefined ? {} : { credentials: broker.proxy }),
    }));
  starting.catch(() => undefined); // handled where awaited; never an unhandled rejection
  const egress: Egress = {
    abort: new AbortController(),
    trust,
    failure: undefined,
    sink: async (l) => {
      const proxy = await starting;
      await proxy.attach(l.http, 'http');
      await proxy.attach(l.socks, 'socks');
      void proxy.exited.then((why) => {
        if (stopping) return;
        egress.failure = why;
        egress.abort.abort();
      });
    },
    stop: () => {
      stopping = true;
      starting.then((p) => p.stop(), () => undefined);
    },
  };
  return egress;
}

/** What ends the run early: the egress proxy's failure, the broker's, or both. */
function runSignal(egress: Egress | undefined, brokerAbort: AbortController | undefined): { signal: AbortSignal } | undefined {
  if (egress === undefined) return brokerAbort === undefined ? undefined : { signal: brokerAbort.signal };
  return { signal: brokerAbort === undefined ? egress.abort.signal : AbortSignal.any([egress.abort.signal, brokerAbort.signal]) };
}

/** The credential broker when the policy has credentials (its own process; the real values are read there only). */
async function startBroker(loaded: LoadedPolicy, key: Buffer): Promise<BrokerProcess | undefined> {
  if (Object.keys(loaded.settings.credentials ?? {}).length === 0) return undefined;
  const [{ spawnBroker }, { upstreamCa }] = await Promise.all([import('../broker/client.js'), import('../egress/proxy-client.js')]);
  const ca = upstreamCa({});
  return spawnBroker(loaded, { fingerprintKey: key, ...(ca === undefined ? {} : { upstreamCa: ca }) });
}

/**
 * The command line as recorded: an argument that looks like a credential
 * (`--token=ghp_...`, a URL with a password) is replaced by its length, so a
 * secret typed on the command line never reaches the decision log.
 */
export function commandForRecord(cmd: readonly string[]): string {
  return cmd.map((a) => (looksLikeCredential(a) ? `[redacted: ${a.length} chars]` : a)).join(' ');
}

/**
 * The policy and its engine, loaded on first need only: a run whose sandbox
 * plan is cached and that needs no proxy never loads the policy compiler.
 */
class LazyPolicy {
  #loaded: Promise<{ loaded: LoadedPolicy; engine: PolicyEngine }> | undefined;
  readonly #options: LoadOptions;
  readonly #key: string | null;
  constructor(options: LoadOptions, key: string | null) {
    this.#options = options;
    this.#key = key;
  }
  get(): Promise<{ loaded: LoadedPolicy; engine: PolicyEngine }> {
    this.#loaded ??= (async () => {
      const [{ loadPolicyCached }, { PolicyEngine }] = await Promise.all([import('../policy/cache.js'), import('../policy/engine.js')]);
      const loaded = await loadPolicyCached(this.#options, this.#key);
      return { loaded, engine: new PolicyEngine(loaded.matchers, loaded.context) };
    })();
    return this.#loaded;
  }
}

/**
 * The policy's cache key and sandbox plan: the plan from the cache when no
 * policy input changed (then no hashing at all), else from the policy (and
 * then cached under the key material).
 */
async function planAndKey(options: LoadOptions): Promise<{ key: string | null; plan: SandboxPlan; policy: LazyPolicy }> {
  const material = policyKeyMaterial(options);
  const cached = material === null ? null : readPlan(material);
  if (cached !== null) return { key: cached.policyKey, plan: cached.plan, policy: new LazyPolicy(options, cached.policyKey) };
  const key = material === null ? null : sha256Hex(material);
  const policy = new LazyPolicy(options, key);
  const [{ loaded, engine }, { planFromPolicy }] = await Promise.all([policy.get(), import('../sandbox/plan.js')]);
  const plan = planFromPolicy(loaded, engine);
  if (material !== null && key !== null) writePlan(material, key, plan);
  return { key, plan, policy };
}

/**
 * Runs `cmd` in the sandbox. `prepared`: the policy key and cached plan, when
 * the caller (the run entry point) has looked them up already, and its early sandbox.
 */
export async function runCommand(cmd: readonly string[], opts: RunCommandOptions, prepared?: { key: string; plan: SandboxPlan; speculation?: Speculation }): Promise<number> {
  if (cmd.length === 0) throw new CordonError('CORDON_USAGE', 'no command given; write cordon run -- CMD [ARGS...]');
  const options = loadOptions(opts);
  const { plan, policy } = prepared === undefined
    ? await planAndKey(options)
    : { plan: prepared.plan, policy: new LazyPolicy(options, prepared.key) };
  // Without network or MCP servers the sandbox starts right after this: the scan before it reuses this walk's listings.
  const listDir = plan.allowsNetwork || opts.reportOnly === true || plan.mcpServers.length > 0 ? undefined : memoListing();
  const compiled = realizePlan(plan, {
    ...(listDir === undefined ? {} : { listDir }),
    cwd: process.cwd(),
    env: process.env,
    ...(opts.keepEnv === undefined ? {} : { keepEnv: opts.keepEnv }),
    forceProxy: opts.reportOnly === true,
  });
  // The spec comes from our own compiler (its output is validated against the schema in tests), so the hot path skips zod.
  const spec = compiled.spec;
  if (compiled.walkTruncated) {
    process.stderr.write('cordon: warning: the workspace is too large to search fully for denied files (such as .env); some may stay visible\n');
  }

  const session = newSessionId();
  const dir = plan.auditDir ?? stateDir();
  const writer = AuditWriter.open({ dir: path.resolve(dir), session });
  const unsubscribe = writer.subscribe();
  let approvals: SessionApprovals | undefined;
  let askEndpoint: AskEndpoint | undefined;
  let alerts: AlertSink | undefined;
  let broker: BrokerProcess | undefined;
  let brokerStopping = false;
  let brokerFailure: string | undefined;
  try {
    const net = spec.network.mode === 'proxy' ? 'network only through the egress proxy' : 'no network';
    // The run's own record. Without network or MCP servers it is written as the command is let start (not before:
    // bubblewrap may be waiting for the gate); a run that ends before that (no such command) gets it at the end.
    let recorded = false;
    const recordStart = (): void => {
      if (recorded) return;
      recorded = true;
      publishDecision({
        boundary: 'supervisor',
        subject: `Run(${commandForRecord(cmd)})`,
        decision: 'allow',
        rule: 'default',
        reason: `Sandbox started in ${spec.workspace}: ${spec.hidden.length} denied paths hidden, ${compiled.removedEnv.length} environment variables removed, ${net}.`,
      });
    };
    // With network or MCP servers the services below record their own start: the run's record comes first.
    if (spec.network.mode === 'proxy' || plan.mcpServers.length > 0) recordStart();
    // Approvals and the trifecta check: with network, or MCP servers (their asks come from the gateway process).
    if (spec.network.mode === 'proxy' || plan.mcpServers.length > 0) {
      const loadedForApprovals = (await policy.get()).loaded;
      const { startRunApprovals, startRunAskEndpoint } = await import('../approval/run.js');
      approvals = await startRunApprovals({
        loaded: loadedForApprovals, session, command: cmd, acceptTrifecta: opts.acceptTrifecta === true, env: process.env,
        boundPaths: [spec.workspace, ...spec.readOnly, ...spec.readWrite],
      });
      // A harness hook inside (Claude Code's PreToolUse) may submit its asks here, and only submit: see src/approval/ask-endpoint.ts.
      askEndpoint = await startRunAskEndpoint({ approvals, policy: () => policy.get(), searchPath: spec.env['PATH'] ?? '/usr/bin:/bin' });
    }
    let egress: Egress | undefined;
    // A broker that dies during the run ends it, as the proxy does (its requests would fail anyway: fail closed, visibly).
    // (Made only with a broker: a run without network never loads Node's AbortController, ~0.5 ms of a cold start.)
    let brokerAbort: AbortController | undefined;
    const fingerprintKey = spec.network.mode === 'proxy' || plan.mcpServers.length > 0 ? nodeCrypto().randomBytes(32) : undefined;
    if (fingerprintKey !== undefined) {
      // The credential broker (policy `credentials`) starts first: the sandbox's environment gets its placeholders; a source
      // error ends the run here (125). The egress proxy and the MCP gateway (servers' `credential`s) send through it.
      broker = await startBroker((await policy.get()).loaded, fingerprintKey);
      if (broker !== undefined) {
        const abort = new AbortController();
        brokerAbort = abort;
        void broker.exited.then((why) => {
          if (brokerStopping) return;
          brokerFailure = why;
          abort.abort();
        });
      }
    }
    if (spec.network.mode === 'proxy' && fingerprintKey !== undefined) {
      const { loaded } = await policy.get();
      // audit.alerts.webhook: blocked-egress decisions POSTed in batches (never holds traffic up).
      const webhook = loaded.settings.audit?.alerts?.webhook;
      if (webhook !== undefined) alerts = (await import('../audit/alerts.js')).startAlerts({ url: webhook, session });
      egress = startEgress(loaded, opts, compiled.removedEnv, approvals, broker, fingerprintKey);
    }
    // MCP servers of the policy: behind cordon's gateway (its own process), reached from inside at $CORDON_MCP_URL.
    const sessionApprovals = approvals;
    const ask = sessionApprovals === undefined ? undefined : (a: Parameters<SessionApprovals['ask']>[0], signal?: AbortSignal) => sessionApprovals.ask(a, signal);
    const mcp = plan.mcpServers.length === 0
      ? undefined
      : await import('../mcp/run/start.js').then((m) => m.mcpForRun(options, async () => (await policy.get()).loaded, opts.profile, process.cwd(), ask, () => writer.healthy, broker?.proxy));
    const withPlaceholders = broker === undefined ? spec : { ...spec, env: { ...spec.env, ...broker.placeholders } };
    const runSpec = egress?.trust?.apply(withPlaceholders) ?? withPlaceholders;
    // A violation's record names the deciding rule, so it needs the policy engine (loaded then, in order).
    let violations: Promise<void> = Promise.resolve();
    const withMcp = mcp?.apply(runSpec) ?? runSpec;
    const res = await runSandboxed(askEndpoint?.apply(withMcp) ?? withMcp, cmd, {
      ...(listDir === undefined ? {} : { listDir }),
      onViolation: (v) => {
        violations = violations.then(async () => violationRecord((await policy.get()).engine, v)).catch((e: unknown) => {
          process.stderr.write(`cordon: could not record a sandbox violation: ${String(e)}\n`);
        });
      },
      ...(egress === undefined ? {} : { onNetworkListeners: egress.sink }),
      ...(runSignal(egress, brokerAbort) ?? {}),
      ...(mcp === undefined ? {} : { mcp: mcp.listener }),
      // A hook inside (Claude Code's PreToolUse hook running `cordon hook`) logs to the private state dir: keep its decisions.
      ...(prepared?.speculation === undefined ? {} : { speculation: prepared.speculation }),
      afterGate: recordStart,
      beforeCleanup: ({ home }) => {
        for (const e of insideHookDecisions(path.join(home, '.local', 'state', 'cordon'))) publishDecision(e);
      },
    });
    recordStart();
    await violations;
    brokerStopping = true;
    mcp?.stop();
    egress?.stop();
    egress?.trust?.dispose();
    if (egress?.failure !== undefined) {
      process.stderr.write(`cordon: the egress proxy stopped during the run (${egress.failure}); the sandbox had no network from then on and the run was ended\n`);
    } else if (brokerFailure !== undefined) {
      process.stderr.write(`cordon: the credential broker stopped during the run (${brokerFailure}); the run was ended\n`);
    } else if (res.error) {
      process.stderr.write(`cordon: ${res.error.message}\n`);
    }
    const blocked = writer.counts().deny;
    if (blocked > 0) {
      process.stderr.write(`cordon: ${blocked} action${blocked === 1 ? '' : 's'} blocked (cordon audit tail ${session})\n`);
    }
    return egress?.failure !== undefined || brokerFailure !== undefined ? 125 : res.exitCode;
  } finally {
    broker?.stop();
    await askEndpoint?.close();
    await approvals?.close();
    await alerts?.close();
    unsubscribe();
    writer.close();
  }
}
