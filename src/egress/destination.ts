/**
 * The destination gate: policy decision, then (only for allowed names)
 * resolution, then a check of every resolved address, then one exact address
 * to connect to. Every decision is published as an audit event.
 *
 * Private and special addresses (loopback, RFC 1918, CGNAT, link-local, ULA,
 * NAT64 of those...) are reachable only when the rule that allowed the request
 * names the destination exactly: its host pattern is `exact` (no `*`, no
 * `*.x`) and equal, after canonicalisation, to the requested host; or a rule
 * allows the resolved address itself (IP rules are exact by construction).
 * Otherwise a name with any special address in its answer is refused as a
 * whole. Cloud metadata endpoints are refused whatever the rules say.
 */
import { publishDecision } from '../audit/publish.js';
import type { DecisionEvent } from '../audit/record.js';
import { isCordonError } from '../errors.js';
import { describeOrigin } from '../policy/engine.js';
import { Policy } from '../policy/policy.js';
import { formatSubject } from '../policy/subject-format.js';
import { parseHttpPattern } from '../policy/match/http.js';
import { hostMatches, parseNetPattern, portMatches, type HostPattern } from '../policy/match/net.js';
import type { CanonicalHost, Decision, RuleSpec, Subject } from '../policy/types.js';
import { formatAuthority } from './hostname.js';
import { classifyAddress } from './ip-ranges.js';
import { askPerson, type EgressApprover, type HeldBody } from './approval-hold.js';
import type { Refusal } from './refusal.js';
import { resolveWithin, type ResolvedAddress, type Resolver } from './resolver.js';

export type NetSubject = Extract<Subject, { kind: 'Net' | 'Http' }>;

/** What the gate needs of a policy: the one decision function (and, for TLS inspection, the rules as data). */
export interface DecidingPolicy {
  decide(subject: Subject): Decision;
  /** The loaded rules; without them an inspected tunnel is admitted only by an allowing `Net` decision. */
  readonly loaded?: { readonly rules: readonly RuleSpec[] };
}

export interface GateOptions {
  readonly policy: DecidingPolicy;
  readonly resolver: Resolver;
  /** Log would-deny policy decisions and forward anyway. Never lifts mandatory denies or address checks. */
  readonly reportOnly?: boolean;
  readonly dnsTimeoutMs?: number;
  /** Where decisions go (default: the audit diagnostics channel). */
  readonly publish?: (event: DecisionEvent) => void;
  /** Asks a person about `ask` decisions (src/approval); without it an ask is refused at once. */
  readonly approve?: EgressApprover;
}

/** The decision on a tunnel that will be TLS-inspected: no resolution yet (each request inside resolves its own). */
export type TunnelResult =
  | { readonly ok: true; readonly subject: string }
  | { readonly ok: false; readonly refusal: Refusal };

/** True when some allow rule of kind `Http` could match a request to `host:port` (any method and path). */
export function httpAllowMayMatch(rules: readonly RuleSpec[], host: CanonicalHost, port: number): boolean {
  for (const r of rules) {
    if (r.effect !== 'allow' || r.kind !== 'Http') continue;
    if (r.specifier === null) {
      if (hostMatches({ type: 'any' }, host, 'allow')) return true;
      continue;
    }
    try {
      const p = parseHttpPattern(r.specifier, r.text);
      if (hostMatches(p.net.host, host, 'allow') && portMatches(p.net.port, port)) return true;
    } catch {
      // rules were validated at load; an unparsable one allows nothing
    }
  }
  return false;
}

export type GateResult =
  | { readonly ok: true; readonly addresses: readonly ResolvedAddress[]; readonly port: number; readonly subject: string }
  | { readonly ok: false; readonly refusal: Refusal };

const exactCache = new WeakMap<RuleSpec, HostPattern | null>();

function hostPatternOf(rule: RuleSpec): HostPattern | null {
  if (exactCache.has(rule)) return exactCache.get(rule) ?? null;
  let p: HostPattern | null = null;
  try {
    if (rule.specifier !== null && rule.kind === 'Net') p = parseNetPattern(rule.specifier, rule.text).host;
    if (rule.specifier !== null && rule.kind === 'Http') p = parseHttpPattern(rule.specifier, rule.text).net.host;
  } catch {
    p = null;
  }
  exactCache.set(rule, p);
  return p;
}

/** True when the allowing rule names `host` exactly (see the module comment). */
export function namesExactly(decision: Decision, host: CanonicalHost): boolean {
  const rule = decision.rules[0];
  if (decision.effect !== 'allow' || rule === undefined) return false;
  const p = hostPatternOf(rule);
  return p !== null && p.type === 'exact' && p.host.type === host.type && p.host.name === host.name;
}

export function ruleText(decision: Decision): string {
  const rule = decision.rules[0];
  return rule === undefined ? 'default' : describeOrigin(rule);
}

function suggestion(subject: NetSubject): string {
  return `Net(${formatAuthority(subject.host, subject.port ?? 0)})`;
}

/** Decisions kept per subject text (see `DestinationGate`); the map is emptied when full. */
const MAX_KEPT_DECISIONS = 1024;
/** Longer subject texts (long URL paths) are decided every time: the kept map stays within ~2 MiB of keys. */
const MAX_KEPT_SUBJECT = 2048;

interface Decided {
  readonly decision: Decision;
  /** `ruleText(decision)`. */
  readonly rule: string;
  /**
   * An IP-literal subject this decision allowed outright and whose address passed its check: the same subject
   * text always gets the same address, decision and check, so the result is reused (still published on every use).
   */
  passed?: Extract<GateResult, { ok: true }>;
}

export class DestinationGate {
  readonly #o: GateOptions;
  readonly #publish: (event: DecisionEvent) => void;
  /**
   * A `Policy` is immutable once loaded and its engine pure, so its decisions are kept per subject text
   * (keep-alive clients ask about the same few subjects on every request); any other decider is asked every
   * time. Only the decision is kept: names are still resolved, every address checked, every use published.
   */
  readonly #kept: Map<string, Decided> | undefined;

  constructor(options: GateOptions) {
    this.#o = options;
    this.#publish = options.publish ?? ((e) => void publishDecision(e));
    this.#kept = options.policy instanceof Policy ? new Map() : undefined;
  }

  /** The policy's decision (throws what the policy throws; nothing is kept then). */
  #decide(subject: Subject): Decided {
    const kept = this.#kept;
    const key = kept === undefined ? '' : formatSubject(subject);
    if (kept === undefined || key.length > MAX_KEPT_SUBJECT) {
      const decision = this.#o.policy.decide(subject);
      return { decision, rule: ruleText(decision) };
    }
    let d = kept.get(key);
    if (d === undefined) {
      const decision = this.#o.policy.decide(subject);
      d = { decision, rule: ruleText(decision) };
      if (kept.size >= MAX_KEPT_DECISIONS) kept.clear();
      kept.set(key, d);
    }
    return d;
  }

  get reportOnly(): boolean {
    return this.#o.reportOnly === true;
  }

  /** Records a refusal decided elsewhere (DLP findings, limits, malformed requests). */
  record(r: Refusal): void {
    this.#publish({
      boundary: 'egress', subject: r.subject, decision: 'deny', rule: r.rule, reason: r.reason,
      ...(r.mandatory ? { mandatory: true } : {}), ...(r.findings === undefined ? {} : { findings: [...r.findings] }),
    });
  }

  #refuse(r: Refusal): GateResult {
    this.record(r);
    return { ok: false, refusal: r };
  }

  /**
   * Decides a CONNECT or SOCKS tunnel that will be TLS-inspected. Without
   * inspection, `Http` deny and ask rules refuse whole tunnels to their host
   * (the policy engine does that for `Net` subjects); inspected, every request
   * inside is decided on its own, so such a rule (or an `Http` allow rule for
   * the host) admits the tunnel and nothing is resolved or connected until a
   * request inside is allowed. `Net` denies, asks and mandatory denies still
   * refuse the tunnel. Never throws.
   */
  checkInspectedTunnel(subject: Extract<NetSubject, { kind: 'Net' }>): TunnelResult {
    let decision: Decision;
    let rule: string;
    try {
      ({ decision, rule } = this.#decide(subject));
    } catch (e) {
      return this.#refuse({ kind: 'policy', status: 403, subject: 'Net(?)', rule: 'internal', reason: `The policy could not decide (${e instanceof Error ? e.message : 'error'}); refused.`, mandatory: false });
    }
    const note = 'TLS is inspected: each request inside the tunnel is decided on its own.';
    if (decision.effect === 'allow') {
      this.#publish({ boundary: 'egress', subject: decision.subject, decision: 'allow', rule, reason: `${decision.reason} ${note}` });
      return { ok: true, subject: decision.subject };
    }
    const deciding = decision.rules[0];
    // A Net ask with a person to ask: each request inside is asked on its own (its exact method, path and body).
    const askEach = decision.effect === 'ask' && !this.reportOnly && this.#o.approve !== undefined;
    const perRequest = !decision.mandatory && (deciding === undefined
      ? subject.port !== null && httpAllowMayMatch(this.#o.policy.loaded?.rules ?? [], subject.host, subject.port)
      : deciding.kind === 'Http' || askEach);
    if (perRequest) {
      const why = deciding === undefined ? 'An Http allow rule names this host.' : `A rule about HTTP requests to this host applies (${rule}).`;
      this.#publish({ boundary: 'egress', subject: decision.subject, decision: 'allow', rule: 'tls inspection', reason: `${why} ${note}` });
      return { ok: true, subject: decision.subject };
    }
    if (this.reportOnly && !decision.mandatory) {
      this.#publish({ boundary: 'egress', subject: decision.subject, decision: decision.effect, rule, reason: `${decision.reason} (report-only: forwarded anyway)`, reportOnly: true });
      return { ok: true, subject: decision.subject };
    }
    return this.#refuse({ kind: 'policy', status: 403, subject: decision.subject, rule, mandatory: decision.mandatory, reason: decision.reason, ...(decision.effect === 'ask' ? { ask: true } : {}), ...(decision.mandatory ? {} : { suggestion: suggestion(subject) }) });
  }

  /** Decides, resolves and checks. Never throws: any failure is a refusal. */
  async check(subject: NetSubject, readBody?: (subject: string) => Promise<HeldBody | Refusal>): Promise<GateResult> {
    let decided: Decided;
    try {
      decided = this.#decide(subject);
    } catch (e) {
      return this.#refuse({ kind: 'policy', status: 403, subject: `${subject.kind}(?)`, rule: 'internal', reason: `The policy could not decide (${e instanceof Error ? e.message : 'error'}); refused.`, mandatory: false });
    }
    const { decision, rule } = decided;
    if (decided.passed !== undefined) {
      this.#publish({ boundary: 'egress', subject: decision.subject, decision: 'allow', rule, reason: decision.reason });
      return decided.passed;
    }
    const base = { subject: decision.subject, rule, mandatory: decision.mandatory };
    let reportOnlyPass = false;
    let approved: string | undefined;
    if (decision.effect === 'ask' && !decision.mandatory && !this.reportOnly && this.#o.approve !== undefined) {
      const asked = await askPerson(this.#o.approve, subject, decision, rule, suggestion(subject), readBody);
      if (!asked.approved) return this.#refuse(asked.refusal);
      approved = asked.reason;
    } else if (decision.effect !== 'allow') {
      if (!this.reportOnly || decision.mandatory) {
        return this.#refuse({ kind: 'policy', status: 403, ...base, reason: decision.reason, ...(decision.effect === 'ask' ? { ask: true } : {}), ...(decision.mandatory ? {} : { suggestion: suggestion(subject) }) });
      }
      reportOnlyPass = true;
      this.#publish({ boundary: 'egress', subject: decision.subject, decision: decision.effect, rule, reason: `${decision.reason} (report-only: forwarded anyway)`, reportOnly: true });
    }
    const port = subject.port ?? 0;
    let addresses: readonly ResolvedAddress[];
    if (subject.host.type === 'dns') {
      try {
        addresses = await resolveWithin(this.#o.resolver, subject.host.name, this.#o.dnsTimeoutMs ?? 5000);
      } catch (e) {
        const why = isCordonError(e) ? e.message : 'resolution failed';
        return this.#refuse({ kind: 'dns', status: 502, ...base, reason: `${why}; nothing was sent.` });
      }
    } else {
      addresses = [{ address: subject.host.name, family: subject.host.type === 'ipv4' ? 4 : 6 }];
    }
    const exact = namesExactly(approved === undefined ? decision : { ...decision, effect: 'allow' }, subject.host);
    for (const a of addresses) {
      const refusal = this.#checkAddress(subject, a, port, exact, base);
      if (refusal !== undefined) return this.#refuse(refusal);
    }
    if (!reportOnlyPass) {
      this.#publish({ boundary: 'egress', subject: decision.subject, decision: 'allow', rule, reason: approved ?? decision.reason });
    }
    // Kept only for an IP literal the policy allowed by itself (not through a person, not report-only); its one address is ours.
    if (this.#kept !== undefined && subject.host.type !== 'dns' && decision.effect === 'allow' && !reportOnlyPass && approved === undefined) {
      decided.passed = Object.freeze({ ok: true as const, addresses: Object.freeze(addresses), port, subject: decision.subject });
      return decided.passed;
    }
    return { ok: true, addresses, port, subject: decision.subject };
  }

  #checkAddress(subject: NetSubject, a: ResolvedAddress, port: number, exact: boolean, base: { subject: string; rule: string }): Refusal | undefined {
    const host: CanonicalHost = { name: a.address, type: a.family === 4 ? 'ipv4' : 'ipv6' };
    const cls = classifyAddress(host);
    const via = subject.host.type === 'dns' ? `${subject.host.name} resolved to ${a.address}: ` : '';
    if (cls.metadata) {
      return { kind: 'address', status: 403, subject: base.subject, rule: 'mandatory: cloud metadata endpoints', reason: `${via}${cls.explanation} (mandatory protection)`, mandatory: true };
    }
    // A rule about the resolved address itself: its deny always counts; its allow makes a special address reachable.
    const byAddressDecided = subject.host.type === 'dns' ? this.#decide({ kind: 'Net', host, port }) : undefined;
    const byAddress = byAddressDecided?.decision;
    if (byAddress !== undefined && byAddress.effect === 'deny' && byAddress.rules.length > 0) {
      return { kind: 'policy', status: 403, subject: base.subject, rule: byAddressDecided?.rule ?? ruleText(byAddress), reason: `${via}${byAddress.reason}`, mandatory: byAddress.mandatory };
    }
    if (!cls.special || exact || byAddress?.effect === 'allow') return undefined;
    return {
      kind: 'address', status: 403, subject: base.subject, rule: base.rule === 'default' ? 'address check' : `${base.rule}; address check`,
      reason: `${via}${cls.explanation} Special and private addresses are reachable only when a rule names the host or the address exactly.`,
      mandatory: false, suggestion: suggestion(subject),
    };
  }
}
