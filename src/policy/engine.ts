/**
 * The decision function: deny, then ask, then allow, then the kind's
 * default. Pure and synchronous once a policy is compiled; shell commands are
 * analysed before they reach it (see `subject.ts`).
 */
import path from 'node:path';
import { classifyAddress, isMetadataHost } from '../egress/ip-ranges.js';
import type { BashMatcher } from './match/compile.js';
import { formatSubject } from './subject-format.js';
import type { Decision, Effect, Matcher, PathContext, RuleKind, RuleSpec, Subject } from './types.js';

/** What happens when no rule matches. */
export const DEFAULT_EFFECTS: Readonly<Record<RuleKind, Effect>> = {
  Read: 'deny',
  Edit: 'deny',
  Bash: 'ask',
  Net: 'deny',
  Http: 'deny',
  WebFetch: 'ask',
  Mcp: 'ask',
};

const DEFAULT_REASONS: Readonly<Record<RuleKind, string>> = {
  Read: 'No rule allows reading this path; reads are denied unless allowed.',
  Edit: 'No rule allows writing this path; writes are denied unless allowed.',
  Bash: 'No rule allows this command; commands need approval unless allowed.',
  Net: 'No rule allows this destination; egress is denied unless allowed.',
  Http: 'No rule allows this request; egress is denied unless allowed.',
  WebFetch: 'No rule allows fetching from this host; fetches need approval unless allowed.',
  Mcp: 'No rule allows this MCP tool; tool calls need approval unless allowed.',
};

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function isBashMatcher(m: Matcher): m is BashMatcher {
  return m.spec.kind === 'Bash' && 'matchesText' in m;
}

export function describeOrigin(r: RuleSpec): string {
  const where = r.origin.file.startsWith('profile:') || r.origin.file.startsWith('cordon:')
    ? `${r.origin.file}:${r.origin.line}`
    : `${r.origin.file}:${r.origin.line}:${r.origin.column}`;
  return `${r.effect} ${r.text} (${r.mandatory === true ? 'mandatory' : r.origin.scope}, ${where})`;
}

export class PolicyEngine {
  readonly #byEffect: Readonly<Record<Effect, readonly Matcher[]>>;
  readonly #context: PathContext;

  constructor(matchers: readonly Matcher[], context: PathContext) {
    this.#byEffect = {
      deny: matchers.filter((m) => m.spec.effect === 'deny'),
      ask: matchers.filter((m) => m.spec.effect === 'ask'),
      allow: matchers.filter((m) => m.spec.effect === 'allow'),
    };
    this.#context = context;
  }

  decide(subject: Subject): Decision {
    const text = formatSubject(subject);
    const tunnelNote = (m: Matcher): string =>
      subject.kind === 'Net' && m.spec.kind === 'Http' ? 'A tunnel to this host cannot be inspected, so a rule about its HTTP paths applies to the whole connection: ' : '';
    const ruled = (effect: Effect, m: Matcher, prefix = tunnelNote(m)): Decision => ({
      effect,
      rules: [m.spec],
      reason: `${prefix}${m.explain()}${m.spec.reason === undefined ? '' : ` ${capitalize(m.spec.reason)}`}`,
      subject: text,
      mandatory: m.spec.mandatory === true,
    });

    const deny = this.#byEffect.deny.find((m) => m.matches(subject));
    if (deny) return ruled('deny', deny);
    const metadata = this.#metadata(subject);
    if (metadata) return metadata;
    if (subject.kind === 'Bash') {
      const write = this.#deniedRedirect(subject.analysis.writes);
      if (write) return ruled('deny', write.matcher, `The command writes to ${write.target}: `);
      if (subject.analysis.unsafe.length > 0) {
        return { effect: 'ask', rules: [], reason: `The command cannot be fully analysed: ${subject.analysis.unsafe.join('; ')}`, subject: text, mandatory: false };
      }
    }
    const ask = this.#byEffect.ask.find((m) => m.matches(subject));
    if (ask) return ruled('ask', ask);
    if (subject.kind === 'Bash') return this.#allowBash(subject.analysis.parts.map((p) => p.text), text);
    const allow = this.#byEffect.allow.find((m) => m.matches(subject));
    if (allow) return ruled('allow', allow);
    return { effect: DEFAULT_EFFECTS[subject.kind], rules: [], reason: DEFAULT_REASONS[subject.kind], subject: text, mandatory: false };
  }

  /** Every part of a compound command must be allowed by some rule. */
  #allowBash(parts: readonly string[], text: string): Decision {
    if (parts.length === 0) {
      return { effect: 'ask', rules: [], reason: 'The command line runs no command that could be checked.', subject: text, mandatory: false };
    }
    const rules: RuleSpec[] = [];
    for (const part of parts) {
      const m = this.#byEffect.allow.find((r) => isBashMatcher(r) && r.matchesText(part));
      if (!m) {
        const why = parts.length > 1 ? `No rule allows \`${part}\` (every part of a compound command must be allowed).` : DEFAULT_REASONS.Bash;
        return { effect: DEFAULT_EFFECTS.Bash, rules: [], reason: why, subject: text, mandatory: false };
      }
      if (!rules.includes(m.spec)) rules.push(m.spec);
    }
    const reason = rules.length === 1 ? (this.#byEffect.allow.find((m) => m.spec === rules[0])?.explain() ?? '') : `Each part is allowed: ${parts.map((p) => `\`${p}\``).join(', ')}.`;
    return { effect: 'allow', rules, reason, subject: text, mandatory: false };
  }

  /** Metadata endpoints in any spelling (IPv4-mapped, NAT64, 6to4...) are a mandatory deny. */
  #metadata(subject: Subject): Decision | undefined {
    if (subject.kind !== 'Net' && subject.kind !== 'Http' && subject.kind !== 'WebFetch') return undefined;
    if (!isMetadataHost(subject.host)) return undefined;
    const explanation = subject.host.type === 'dns' ? `${subject.host.name} is a cloud metadata endpoint and is never reachable.` : classifyAddress(subject.host).explanation;
    const embedded = subject.host.type === 'ipv6' ? classifyAddress(subject.host).embeddedIPv4 : undefined;
    const rule = embedded === undefined ? undefined : this.#byEffect.deny.find((m) => m.spec.mandatory === true && m.matches({ kind: 'Net', host: { name: embedded, type: 'ipv4' }, port: null }));
    return { effect: 'deny', rules: rule ? [rule.spec] : [], reason: `${explanation} (mandatory protection)`, subject: formatSubject(subject), mandatory: true };
  }

  #deniedRedirect(writes: readonly string[]): { matcher: Matcher; target: string } | undefined {
    for (const target of writes) {
      if (target.startsWith('/dev/') && ['/dev/null', '/dev/stdout', '/dev/stderr'].includes(target)) continue;
      const abs = target.startsWith('~/') ? path.join(this.#context.home, target.slice(2)) : path.resolve(this.#context.workspace, target);
      const m = this.#byEffect.deny.find((r) => r.matches({ kind: 'Edit', path: abs }));
      if (m) return { matcher: m, target };
    }
    return undefined;
  }
}
