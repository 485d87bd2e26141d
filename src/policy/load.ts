/**
 * Loads the effective policy: built-in mandatory protections, then the
 * managed, user, project and `--policy` scopes, then the built-in profiles
 * they extend. A problem anywhere is an error naming file, line and column:
 * there is never a fallback to an empty or default policy.
 */
import { readFileSync } from 'node:fs';
import { readPolicyBytes } from './read-file.js';
import path from 'node:path';
import { CordonError, PolicyError, type PolicyProblem } from '../errors.js';
import { compileRuleLists, type RuleListInput } from './file-rules.js';
import { issuesToProblems } from './issues.js';
import { mandatoryEntries, protectedNames } from './mandatory.js';
import { CLAUDE_SETTINGS_SCHEMA, POLICY_SCHEMA, type PolicyFile } from './schema.js';
import { readPolicySource, type PathSegment, type PolicySource } from './source.js';
import { BUILTIN_PROFILES, PROFILE_DIR, resolveHome, scopeFiles, type LoadOptions } from './scopes.js';
import type { Matcher, PathContext, RuleSpec, ScopeName } from './types.js';

export { BUILTIN_PROFILES, PROFILE_DIR } from './scopes.js';
export type { LoadOptions } from './scopes.js';

export interface SourceInfo {
  readonly scope: ScopeName;
  readonly file: string;
  readonly format: 'cordon' | 'claude-settings';
}

export interface LoadedPolicy {
  readonly context: PathContext;
  /** Mandatory rules first, then by scope strength, then in file order. */
  readonly rules: readonly RuleSpec[];
  readonly matchers: readonly Matcher[];
  readonly sources: readonly SourceInfo[];
  readonly profiles: readonly string[];
  readonly lockdown: boolean;
  readonly warnings: readonly PolicyProblem[];
  /** Names kept read-only and uncreatable at every depth of the workspace by the sandbox. */
  readonly protectedNames: readonly string[];
  /** Non-permission sections, each taken from the strongest scope that sets it. */
  readonly settings: Pick<PolicyFile, 'dlp' | 'credentials' | 'mcp' | 'approvals' | 'audit' | 'egress'>;
}

interface Parsed {
  readonly scope: ScopeName;
  readonly source: PolicySource;
  readonly doc: PolicyFile;
  readonly format: SourceInfo['format'];
}

function readText(file: string, required: boolean): string | null {
  const bytes = readPolicyBytes(file, required);
  return bytes === null ? null : bytes.toString('utf8');
}

function parseDocument(scope: ScopeName, file: string, text: string, problems: PolicyProblem[]): Parsed | null {
  const source = readPolicySource(file, text);
  if (Array.isArray(source)) {
    problems.push(...source);
    return null;
  }
  const v = source.value;
  const isObject = v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject) {
    problems.push({ file, line: 1, column: 1, path: '', message: 'a policy file must be a mapping with at least `version: 1`' });
    return null;
  }
  if (file.endsWith('.json') && !Object.hasOwn(v, 'version')) {
    const r = CLAUDE_SETTINGS_SCHEMA.safeParse(v);
    if (!r.success) {
      problems.push(...issuesToProblems(r.error.issues, source, CLAUDE_SETTINGS_SCHEMA));
      return null;
    }
    const p = r.data.permissions;
    const permissions = { ...(p?.deny ? { deny: p.deny } : {}), ...(p?.ask ? { ask: p.ask } : {}), ...(p?.allow ? { allow: p.allow } : {}) };
    return { scope, source, format: 'claude-settings', doc: { version: 1, permissions } };
  }
  const r = POLICY_SCHEMA.safeParse(v);
  if (!r.success) {
    problems.push(...issuesToProblems(r.error.issues, source, POLICY_SCHEMA));
    return null;
  }
  const doc = r.data;
  if (scope !== 'managed') {
    for (const key of ['lockdown', 'mandatory'] as const) {
      if (doc[key] !== undefined) {
        problems.push({ file, ...source.keyPosition([key]), path: key, message: `'${key}' is allowed only in the managed policy (/etc/cordon/policy.yaml)` });
      }
    }
  }
  for (const name of doc.extends ?? []) {
    if (!BUILTIN_PROFILES.includes(name)) {
      const i = (doc.extends ?? []).indexOf(name);
      problems.push({ file, ...source.position(['extends', i]), path: `extends[${i}]`, message: `unknown profile '${name}'; built-in profiles: ${BUILTIN_PROFILES.join(', ')}` });
    }
  }
  return { scope, source, format: 'cordon', doc };
}

function permissionLists(doc: PolicyFile, dropAllowAsk: boolean): RuleListInput[] {
  const p = doc.permissions ?? {};
  const lists: RuleListInput[] = [{ effect: 'deny', entries: p.deny ?? [], path: ['permissions', 'deny'] }];
  if (!dropAllowAsk) {
    lists.push({ effect: 'ask', entries: p.ask ?? [], path: ['permissions', 'ask'] });
    lists.push({ effect: 'allow', entries: p.allow ?? [], path: ['permissions', 'allow'] });
  }
  return lists;
}

function mandatorySource(): PolicySource {
  const position = (p: readonly PathSegment[]): { line: number; column: number } => ({ line: typeof p[2] === 'number' ? p[2] + 1 : 1, column: 1 });
  return { file: 'cordon:mandatory', value: null, position, keyPosition: position };
}

export function loadPolicy(options: LoadOptions): LoadedPolicy {
  const home = resolveHome(options);
  const context: PathContext = { workspace: path.resolve(options.workspace), home };
  const problems: PolicyProblem[] = [];
  const parsed: Parsed[] = [];
  for (const { scope, file, required } of scopeFiles(options)) {
    const text = readText(file, required);
    if (text === null) continue;
    const p = parseDocument(scope, file, text, problems);
    if (p) parsed.push(p);
  }
  if (options.profile !== undefined && !BUILTIN_PROFILES.includes(options.profile)) {
    throw new CordonError('CORDON_USAGE', `unknown profile '${options.profile}'; built-in profiles: ${BUILTIN_PROFILES.join(', ')}`);
  }
  const managed = parsed.find((p) => p.scope === 'managed');
  const lockdown = managed?.doc.lockdown === true;

  const rules: RuleSpec[] = [];
  const matchers: Matcher[] = [];
  const warnings: PolicyProblem[] = [];
  const take = (r: ReturnType<typeof compileRuleLists>): void => {
    rules.push(...r.rules);
    matchers.push(...r.matchers);
    problems.push(...r.problems);
    warnings.push(...r.warnings);
  };

  // 1. Mandatory protections (built in, plus the managed scope's additions).
  const entries = mandatoryEntries(managed?.doc.mandatory?.instruction_files);
  take(compileRuleLists([{ effect: 'deny', entries: entries.map((e) => ({ rule: e.rule, reason: e.reason })), path: ['mandatory', 'deny'], mandatory: true }],
    mandatorySource(), 'profile', context));
  if (managed?.doc.mandatory?.deny) {
    take(compileRuleLists([{ effect: 'deny', entries: managed.doc.mandatory.deny, path: ['mandatory', 'deny'], mandatory: true }], managed.source, 'managed', context));
  }
  // 2. Scopes, strongest first.
  for (const p of parsed) take(compileRuleLists(permissionLists(p.doc, lockdown && p.scope !== 'managed'), p.source, p.scope, context));
  // 3. Profiles.
  const profiles = new Set<string>();
  const extendSources = lockdown && managed ? [managed] : parsed;
  // A file without `extends` builds on the base profile: `--profile`, or `default`.
  const base = options.profile ?? 'default';
  for (const p of extendSources) for (const name of p.doc.extends ?? [base]) profiles.add(name);
  if (parsed.length === 0 || options.profile !== undefined) profiles.add(base);
  for (const name of profiles) {
    if (!BUILTIN_PROFILES.includes(name)) continue;
    const file = `profile:${name}`;
    const text = readFileSync(path.join(PROFILE_DIR, `${name}.yaml`), 'utf8');
    const p = parseDocument('profile', file, text, problems);
    if (p) take(compileRuleLists(permissionLists(p.doc, false), p.source, 'profile', context));
  }
  if (problems.length > 0) throw new PolicyError(problems.slice(0, 50));

  const settings: LoadedPolicy['settings'] = {};
  for (const key of ['dlp', 'credentials', 'mcp', 'approvals', 'audit', 'egress'] as const) {
    const from = parsed.find((p) => p.doc[key] !== undefined);
    if (from) Object.assign(settings, { [key]: from.doc[key] });
  }
  return {
    context,
    rules,
    matchers,
    sources: parsed.map((p) => ({ scope: p.scope, file: p.source.file, format: p.format })),
    profiles: [...profiles],
    lockdown,
    warnings,
    protectedNames: protectedNames(managed?.doc.mandatory?.instruction_files),
    settings,
  };
}
