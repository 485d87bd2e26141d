/**
 * Rule and subject data. Everything here is plain, serialisable data: rules
 * are parsed into these shapes when a policy loads, compiled matchers live in
 * `src/policy/match/`, and the engine (`engine.ts`) evaluates them.
 */

/** Decisions, in evaluation order: deny, then ask, then allow. */
export type Effect = 'deny' | 'ask' | 'allow';
export const EFFECT_ORDER: readonly Effect[] = ['deny', 'ask', 'allow'];

/** Where a rule came from, strongest first. `profile` is a built-in profile. */
export type ScopeName = 'managed' | 'user' | 'project' | 'cli' | 'profile';

export interface RuleOrigin {
  readonly scope: ScopeName;
  /** File path as given (or `profile:default` for built-ins). */
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type RuleKind = 'Read' | 'Edit' | 'Bash' | 'Net' | 'Http' | 'WebFetch' | 'Mcp';

/** One argument matcher of an `mcp__server__tool` rule (object form). */
export type ArgMatcher =
  | { readonly path: string; readonly op: 'equals'; readonly value: string | number | boolean | null }
  | { readonly path: string; readonly op: 'glob'; readonly value: string }
  | { readonly path: string; readonly op: 'regex'; readonly value: string }
  | { readonly path: string; readonly op: 'min' | 'max'; readonly value: number }
  | { readonly path: string; readonly op: 'outside_workspace' }
  | { readonly path: string; readonly op: 'exists' };

/** A parsed rule: what the user wrote, split into kind and specifier. */
export interface RuleData {
  readonly kind: RuleKind;
  /** The text inside the parentheses, unescaped; `null` means the whole tool (`Bash`, `Bash(*)`). */
  readonly specifier: string | null;
  /** For `Mcp`: server and tool patterns (tool may be `*` or a glob). */
  readonly mcp?: { readonly server: string; readonly tool: string };
  readonly args?: readonly ArgMatcher[];
  /** The rule exactly as written, e.g. `Bash(npm run test:*)`. */
  readonly text: string;
}

export interface RuleSpec extends RuleData {
  readonly effect: Effect;
  readonly origin: RuleOrigin;
  /** Position of the rule in its effect list, for messages (`permissions.allow[3]`). */
  readonly index: number;
  /** True for mandatory protections: no scope and no approval can lift them. */
  readonly mandatory?: boolean;
  /** A one-line reason shown with the rule (mandatory entries, profile rules). */
  readonly reason?: string;
}

/** A canonical host as produced by the hostname canonicaliser. */
export interface CanonicalHost {
  /** Lowercase ASCII (IDNA) name without trailing dot, or the IP literal in canonical text form (IPv6 without brackets). */
  readonly name: string;
  readonly type: 'dns' | 'ipv4' | 'ipv6';
}

/** One simple command found in a shell command line. */
export interface CommandPart {
  /** Canonical text: static words, unquoted, joined by single spaces; safe wrappers (timeout, nice, nohup, time...) and safe variable assignments removed. Allow rules match this only. */
  readonly text: string;
  /** Further spellings that deny and ask rules also match (raw source text, command basename instead of path, every wrapper and assignment stripped...). */
  readonly denyForms: readonly string[];
}

/** What the shell parser found in a command line. */
export interface CommandAnalysis {
  readonly source: string;
  /** Every simple command that would run, including those inside substitutions, subshells and recursed `bash -c` payloads. */
  readonly parts: readonly CommandPart[];
  /** Reasons why the command cannot be fully accounted for (eval, dynamic command name, parse error, control characters...). Non-empty means the best possible decision is `ask`. */
  readonly unsafe: readonly string[];
  /** Static targets of output redirections (`> file`), as written. */
  readonly writes: readonly string[];
}

export type Subject =
  | { readonly kind: 'Read' | 'Edit'; readonly path: string }
  | { readonly kind: 'Bash'; readonly command: string; readonly analysis: CommandAnalysis }
  | { readonly kind: 'Net'; readonly host: CanonicalHost; readonly port: number | null }
  | {
      readonly kind: 'Http';
      readonly method: string;
      readonly host: CanonicalHost;
      readonly port: number | null;
      readonly path: string;
    }
  | { readonly kind: 'WebFetch'; readonly host: CanonicalHost; readonly url: string }
  | { readonly kind: 'Mcp'; readonly server: string; readonly tool: string; readonly args: unknown };

/** A compiled rule: decides whether it matches a subject, and says so in one sentence. */
export interface Matcher {
  readonly spec: RuleSpec;
  /** Whether this rule applies to the subject. For `Bash`, true when it matches the whole command or any part. */
  matches(subject: Subject): boolean;
  /** One sentence describing what this rule covers. */
  explain(): string;
}

export interface Decision {
  readonly effect: Effect;
  /** The deciding rule(s); empty when the kind's default decided. For a compound command allowed part by part, one rule per part. */
  readonly rules: readonly RuleSpec[];
  /** One sentence: why. */
  readonly reason: string;
  readonly subject: string;
  /** True when a mandatory protection decided: approvals cannot lift it. */
  readonly mandatory: boolean;
}

/** Paths a policy's path rules are anchored to. */
export interface PathContext {
  /** Absolute, normalised workspace directory (`./` in rules). */
  readonly workspace: string;
  /** Absolute home directory of the user (`~/` in rules). */
  readonly home: string;
}
