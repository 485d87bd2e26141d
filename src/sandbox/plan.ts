/**
 * A sandbox plan: everything the policy decides about a sandbox, as plain
 * data, in two steps.
 *
 * - `planFromPolicy` asks the policy engine (which directories may be read or
 *   written, what must stay hidden, which names are protected). It depends on
 *   the policy and its context (workspace, home) only, so `cordon run` caches
 *   its result next to the compiled policy and skips the engine on the next
 *   start.
 * - `realizePlan` looks at the machine as it is now (which paths exist, which
 *   denied files the workspace holds, the environment) and produces the
 *   `SandboxSpec` for one run. It runs at every start and needs no policy code.
 */
import { existsSync, readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { compileSegmentName } from '../policy/glob.js';
import type { PathMatcher } from '../policy/match/compile.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { Matcher } from '../policy/types.js';
import { type ListDir, readDirEntries } from './dir-listing.js';
import { scrubEnvironment } from './env.js';
import { defaultReadOnly } from './spec-defaults.js';
import type { SandboxSpec } from './spec.js';

/** A compiled path pattern kept as data (`RegExp` source and flags). */
export interface StoredRegex {
  readonly source: string;
  readonly flags: string;
}

/** A Read deny rule that matches at any depth below `base` (within the workspace). */
export interface AnyDepthHide {
  /** The rule's full regex over absolute paths. */
  readonly regex: StoredRegex;
  readonly base: string;
  /** When the rule is one segment: the regex of the last segment alone (see compileSegmentName), so a walk need not run `regex` on every path. */
  readonly name?: StoredRegex;
}

export interface SandboxPlan {
  readonly workspace: string;
  /** Read-only binds (bubblewrap skips the ones that do not exist). */
  readonly readOnly: readonly string[];
  /** Directories a person's own rules allow reading, bound read-only when they exist. */
  readonly extraReadOnly: readonly string[];
  /** Directories a person's own rules allow editing, bound read-write when they exist. */
  readonly readWrite: readonly string[];
  /** Paths to hide when they exist and lie inside (or contain) something bound. */
  readonly hideLiteral: readonly string[];
  /** Directories whose direct entries matching `regex` are hidden. */
  readonly hideInDir: readonly { readonly dir: string; readonly regex: StoredRegex }[];
  /** Patterns matched at any depth of the workspace (a bounded walk finds the files). */
  readonly hideAnyDepth: readonly AnyDepthHide[];
  /**
   * Read deny rules that cross directories below a literal prefix outside the
   * workspace (a double star below `~/data`, say): the prefix is walked at every start
   * when it lies inside a directory the sandbox binds.
   */
  readonly hideBelow: readonly { readonly base: string; readonly regex: StoredRegex }[];
  readonly protectedNames: readonly string[];
  /** True when some rule allows network (the sandbox then gets the egress proxy). */
  readonly allowsNetwork: boolean;
  /** Names of the policy's MCP servers (the run then starts the gateway). */
  readonly mcpServers: readonly string[];
  /** `audit.dir` of the policy, if set. */
  readonly auditDir?: string;
}

export interface RealizeOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Extra environment variable names to pass (still dropped if the value looks like a credential). */
  readonly keepEnv?: readonly string[];
  /** Bound on the workspace walk that finds denied files to hide. */
  readonly maxWalkEntries?: number;
  /** How directories are listed (a memo shared with the protected-path scan; default: read each). */
  readonly listDir?: ListDir;
  /** Give the sandbox the proxy even when no rule allows network (report-only runs). */
  readonly forceProxy?: boolean;
}

export interface CompiledSpec {
  readonly spec: SandboxSpec;
  /** Environment variable names removed by the scrubber. */
  readonly removedEnv: readonly string[];
  /** Denied workspace files made invisible. */
  readonly hiddenCount: number;
  /** True when the walk for denied files stopped at its bound. */
  readonly walkTruncated: boolean;
}

/** Resolver configuration kept out of every sandbox, even when `/etc` is readable. */
export const NO_DNS_FILES: readonly string[] = ['/etc/resolv.conf'];

/** Ports of the proxy listeners inside the sandbox's own network namespace (nothing else uses it). */
export const SANDBOX_HTTP_PROXY_PORT = 3128;
export const SANDBOX_SOCKS_PORT = 1080;

const GLOB = /[*?[]/;

/**
 * Whether the policy may allow any egress at all: some allow or ask rule of
 * kind Net or Http (an ask needs the proxy to hold the request while a person
 * decides). When none does, the sandbox gets no proxy (and none is started).
 */
export function policyAllowsNetwork(policy: LoadedPolicy): boolean {
  return policy.rules.some((r) => (r.effect === 'allow' || r.effect === 'ask') && (r.kind === 'Net' || r.kind === 'Http'));
}

function isPathMatcher(m: Matcher): m is PathMatcher {
  return (m.spec.kind === 'Read' || m.spec.kind === 'Edit') && 'pattern' in m;
}

/** The literal directory a pattern starts with (everything before its first glob segment). */
function literalPrefix(base: string, rest: string): { prefix: string; remainder: string } {
  const segs = rest.split('/').filter((s) => s !== '');
  const i = segs.findIndex((s) => GLOB.test(s));
  const lit = i === -1 ? segs : segs.slice(0, i);
  return { prefix: path.join(base, ...lit), remainder: i === -1 ? '' : segs.slice(i).join('/') };
}

function within(p: string, roots: readonly string[]): boolean {
  return roots.some((r) => p === r || p.startsWith(r.endsWith('/') ? r : `${r}/`));
}

const stored = (re: RegExp): StoredRegex => ({ source: re.source, flags: re.flags.replace(/[gy]/g, '') });

/** What the policy decides about the sandbox, independent of what exists on disk. */
export function planFromPolicy(policy: LoadedPolicy, engine: PolicyEngine): SandboxPlan {
  const ws = policy.context.workspace;
  const readAllowed = (p: string): boolean => engine.decide({ kind: 'Read', path: p }).effect === 'allow';
  const editAllowed = (p: string): boolean => engine.decide({ kind: 'Edit', path: p }).effect === 'allow';

  const readOnly = defaultReadOnly().filter((p) => readAllowed(p) || readAllowed(path.join(p, 'x')));
  const extraReadOnly: string[] = [];
  const readWrite: string[] = [];
  for (const m of policy.matchers) {
    if (!isPathMatcher(m) || m.pattern === null || m.spec.effect !== 'allow' || m.pattern.anyDepth) continue;
    // The built-in profile's broad system allows (`Read(//etc/**)`) describe what a tool may read
    // outside the sandbox; inside it, the curated system list above is stricter. Bind only what
    // a person's own policy names.
    if (m.spec.origin.scope === 'profile') continue;
    const { prefix } = literalPrefix(m.pattern.base, m.pattern.rest);
    if (prefix === '/' || within(prefix, [ws])) continue;
    // The sandbox has its own /dev, /proc and /sys; binding host device nodes would break them (nodev).
    if (within(prefix, ['/dev', '/proc', '/sys'])) continue;
    // The private HOME and /tmp are the sandbox's own; real paths under them are bound only when named.
    if (prefix === policy.context.home || prefix === '/tmp') continue;
    if (m.spec.kind === 'Edit' && editAllowed(path.join(prefix, 'x'))) readWrite.push(prefix);
    else if (m.spec.kind === 'Read' && readAllowed(path.join(prefix, 'x')) && !within(prefix, readOnly)) extraReadOnly.push(prefix);
  }

  // No DNS inside the sandbox: the proxy resolves names (only those policy allows).
  const hideLiteral = [...NO_DNS_FILES];
  const hideInDir: { dir: string; regex: StoredRegex }[] = [];
  const hideAnyDepth: AnyDepthHide[] = [];
  const hideBelow: { base: string; regex: StoredRegex }[] = [];
  for (const m of policy.matchers) {
    if (!isPathMatcher(m) || m.spec.kind !== 'Read' || m.spec.effect !== 'deny' || m.pattern === null) continue;
    if (m.pattern.anyDepth) {
      if (within(m.pattern.base, [ws])) {
        const name = compileSegmentName(m.pattern.rest, m.pattern.display);
        hideAnyDepth.push({ regex: stored(m.pattern.regex), base: m.pattern.base, ...(name === null ? {} : { name: stored(name) }) });
      }
      continue;
    }
    const { prefix, remainder } = literalPrefix(m.pattern.base, m.pattern.rest);
    if (remainder === '') hideLiteral.push(prefix);
    else if (!remainder.includes('/')) hideInDir.push({ dir: prefix, regex: stored(m.pattern.regex) });
    // A glob across directories (`./config/**/*.key`, `./a/*/b`) inside the workspace: tested on every entry of the workspace walk.
    else if (within(prefix, [ws])) hideAnyDepth.push({ regex: stored(m.pattern.regex), base: prefix });
    else hideBelow.push({ base: prefix, regex: stored(m.pattern.regex) });
  }
  const auditDir = policy.settings.audit?.dir;
  return {
    workspace: ws,
    readOnly,
    extraReadOnly,
    readWrite,
    hideLiteral,
    hideInDir,
    hideAnyDepth,
    hideBelow,
    protectedNames: [...policy.protectedNames],
    allowsNetwork: policyAllowsNetwork(policy),
    mcpServers: Object.keys(policy.settings.mcp?.servers ?? {}),
    ...(auditDir === undefined ? {} : { auditDir }),
  };
}

/**
 * Bounded walk of the workspace for files that deny rules matching at any
 * depth would hide. A matching directory is not descended (its whole subtree
 * is hidden), which is what lets a rule test an entry's name alone.
 */
function walkDenied(root: string, denied: (p: string, name: string) => boolean, limit: number, list: ListDir): { hits: string[]; truncated: boolean } {
  const hits: string[] = [];
  const queue = [root];
  let seen = 0;
  for (let next = 0; next < queue.length; next++) {
    const dir = queue[next] ?? root;
    let entries: Dirent[];
    try {
      entries = list(dir);
    } catch {
      continue;
    }
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    for (const e of entries) {
      if (++seen > limit) return { hits, truncated: true };
      const p = prefix + e.name;
      if (denied(p, e.name)) {
        hits.push(p);
        continue;
      }
      if (e.isDirectory() && e.name !== 'node_modules' && e.name !== '.git') queue.push(p);
    }
  }
  return { hits, truncated: false };
}

/**
 * The hide rules as one test of a walked entry (`p` = its parent's path + `/`
 * + `name`; see walkDenied). The name tests of rules with the same base are
 * joined into one alternation: the walk runs before any JIT, over every entry
 * of the workspace, so one regex per entry instead of one per rule counts.
 */
function anyDepthTest(hides: readonly AnyDepthHide[]): (p: string, name: string) => boolean {
  const full: RegExp[] = [];
  const byBase = new Map<string, string[]>();
  for (const h of hides) {
    if (h.name === undefined || h.name.flags !== 'su' || !h.name.source.startsWith('^') || !h.name.source.endsWith('$')) {
      full.push(new RegExp(h.regex.source, h.regex.flags));
      continue;
    }
    const below = h.base.endsWith('/') ? h.base : `${h.base}/`;
    byBase.set(below, [...(byBase.get(below) ?? []), h.name.source.slice(1, -1)]);
  }
  const named = [...byBase].map(([below, parts]) => ({ below, re: new RegExp(`^(?:${parts.join('|')})$`, 'su') }));
  return (p, name) => {
    for (const g of named) if (p.startsWith(g.below) && g.re.test(name)) return true;
    for (const re of full) if (re.test(p)) return true;
    return false;
  };
}

/** The spec for one run: the plan applied to what exists now. */
export function realizePlan(plan: SandboxPlan, opts: RealizeOptions): CompiledSpec {
  const ws = plan.workspace;
  const readOnly = [...plan.readOnly];
  for (const p of plan.extraReadOnly) if (!within(p, readOnly) && existsSync(p)) readOnly.push(p);
  const readWrite = plan.readWrite.filter((p) => existsSync(p));
  const bound = [ws, ...readOnly, ...readWrite];
  const visible = (p: string): boolean => within(p, bound) || bound.some((b) => within(b, [p]));

  const hidden = new Set<string>();
  for (const p of plan.hideLiteral) if (visible(p) && existsSync(p)) hidden.add(p);
  // One directory listing per directory, however many patterns name it (/etc has several).
  const inDir = new Map<string, RegExp[]>();
  for (const { dir, regex } of plan.hideInDir) {
    if (!visible(dir)) continue;
    const list = inDir.get(dir) ?? [];
    list.push(new RegExp(regex.source, regex.flags));
    inDir.set(dir, list);
  }
  for (const [dir, res] of inDir) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue; // absent or unreadable: not visible either
    }
    const prefix = dir.endsWith('/') ? dir : `${dir}/`; // dir is absolute and normalized: no path.join per entry
    for (const name of names) {
      const p = prefix + name;
      // Only what is mounted needs hiding (/etc/shadow is not: /etc is bound file by file), and each hide is a mount.
      if (res.some((re) => re.test(p)) && visible(p)) hidden.add(p);
    }
  }
  const walk = plan.hideAnyDepth.length === 0
    ? { hits: [], truncated: false }
    : walkDenied(ws, anyDepthTest(plan.hideAnyDepth), opts.maxWalkEntries ?? 20_000, opts.listDir ?? readDirEntries);
  for (const p of walk.hits) hidden.add(p);
  // Outside the workspace, only a prefix inside a bound directory is walked (one that merely holds bound
  // directories, such as `/`, would be the whole file system; see the README's limits).
  let truncated = walk.truncated;
  const below = new Map<string, RegExp[]>();
  for (const { base, regex } of plan.hideBelow) {
    if (!within(base, bound) || within(base, [ws])) continue;
    below.set(base, [...(below.get(base) ?? []), new RegExp(regex.source, regex.flags)]);
  }
  for (const [base, res] of below) {
    const w = walkDenied(base, (p) => res.some((re) => re.test(p)), opts.maxWalkEntries ?? 20_000, opts.listDir ?? readDirEntries);
    for (const p of w.hits) hidden.add(p);
    truncated ||= w.truncated;
  }

  const { env, removed } = scrubEnvironment(opts.env, { ...(opts.keepEnv ? { allow: opts.keepEnv } : {}) });
  const cwd = within(path.resolve(opts.cwd), [ws]) ? path.resolve(opts.cwd) : ws;
  return {
    spec: {
      workspace: ws,
      readOnly,
      readWrite,
      hidden: [...hidden],
      protectedNames: [...plan.protectedNames],
      env,
      network: opts.forceProxy === true || plan.allowsNetwork
        ? { mode: 'proxy', httpPort: SANDBOX_HTTP_PROXY_PORT, socksPort: SANDBOX_SOCKS_PORT }
        : { mode: 'none' },
      cwd,
    },
    removedEnv: removed,
    hiddenCount: walk.hits.length,
    walkTruncated: truncated,
  };
}

/** Checks that parsed JSON is a plan of this format (the cache is ours, but a bad file must only cost time). */
export function isSandboxPlan(v: unknown): v is SandboxPlan {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const strings = (x: unknown): boolean => Array.isArray(x) && x.every((s) => typeof s === 'string');
  const regex = (x: unknown): boolean => typeof x === 'object' && x !== null
    && typeof (x as StoredRegex).source === 'string' && typeof (x as StoredRegex).flags === 'string';
  return typeof o['workspace'] === 'string' && path.isAbsolute(o['workspace'])
    && strings(o['readOnly']) && strings(o['extraReadOnly']) && strings(o['readWrite'])
    && strings(o['hideLiteral']) && strings(o['protectedNames'])
    && Array.isArray(o['hideInDir']) && o['hideInDir'].every((h: unknown) => typeof h === 'object' && h !== null
      && typeof (h as { dir?: unknown }).dir === 'string' && regex((h as { regex?: unknown }).regex))
    && Array.isArray(o['hideBelow']) && o['hideBelow'].every((h: unknown) => typeof h === 'object' && h !== null
      && typeof (h as { base?: unknown }).base === 'string' && regex((h as { regex?: unknown }).regex))
    && Array.isArray(o['hideAnyDepth']) && o['hideAnyDepth'].every((h: unknown) => typeof h === 'object' && h !== null
      && regex((h as { regex?: unknown }).regex) && typeof (h as { base?: unknown }).base === 'string'
      && ((h as { name?: unknown }).name === undefined || regex((h as { name?: unknown }).name)))
    && typeof o['allowsNetwork'] === 'boolean' && strings(o['mcpServers'])
    && (o['auditDir'] === undefined || typeof o['auditDir'] === 'string');
}
