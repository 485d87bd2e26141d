/**
 * Compiles the effective policy's `Read`/`Edit` rules into a SandboxSpec:
 * the workspace read-write, the system's program directories read-only (each
 * checked against the policy), literal paths of other allow rules bound, and
 * denied paths inside anything bound made invisible.
 */
import { existsSync, readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';
import type { PathMatcher } from '../policy/match/compile.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { Matcher } from '../policy/types.js';
import { scrubEnvironment } from './env.js';
import { defaultReadOnly } from './spec-defaults.js';
import type { SandboxSpec } from './spec.js';

export interface SpecOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Extra environment variable names to pass (still dropped if the value looks like a credential). */
  readonly keepEnv?: readonly string[];
  /** Bound on the workspace walk that finds denied files to hide. */
  readonly maxWalkEntries?: number;
  /** Give the sandbox the proxy even when no rule allows network (report-only runs). */
  readonly forceProxy?: boolean;
}

/** Resolver configuration kept out of every sandbox, even when `/etc` is readable. */
export const NO_DNS_FILES: readonly string[] = ['/etc/resolv.conf'];

/** Ports of the proxy listeners inside the sandbox's own network namespace (nothing else uses it). */
export const SANDBOX_HTTP_PROXY_PORT = 3128;
export const SANDBOX_SOCKS_PORT = 1080;

/**
 * Whether the policy allows any egress at all: some allow rule of kind Net or
 * Http. When none does, the sandbox gets no proxy (and no proxy is started).
 */
export function policyAllowsNetwork(policy: LoadedPolicy): boolean {
  return policy.rules.some((r) => r.effect === 'allow' && (r.kind === 'Net' || r.kind === 'Http'));
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

const GLOB = /[*?[]/;

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

/** Bounded walk of the workspace for files that deny rules matching at any depth would hide. */
function walkDenied(root: string, denied: (p: string) => boolean, limit: number): { hits: string[]; truncated: boolean } {
  const hits: string[] = [];
  const queue = [root];
  let seen = 0;
  while (queue.length > 0) {
    const dir = queue.shift() ?? root;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (++seen > limit) return { hits, truncated: true };
      const p = path.join(dir, e.name);
      if (denied(p)) {
        hits.push(p);
        continue;
      }
      if (e.isDirectory() && e.name !== 'node_modules' && e.name !== '.git') queue.push(p);
    }
  }
  return { hits, truncated: false };
}

export function specFromPolicy(policy: LoadedPolicy, engine: PolicyEngine, opts: SpecOptions): CompiledSpec {
  const ws = policy.context.workspace;
  const readAllowed = (p: string): boolean => engine.decide({ kind: 'Read', path: p }).effect === 'allow';
  const editAllowed = (p: string): boolean => engine.decide({ kind: 'Edit', path: p }).effect === 'allow';

  const readOnly = defaultReadOnly().filter((p) => readAllowed(p) || readAllowed(path.join(p, 'x')));
  const readWrite: string[] = [];
  for (const m of policy.matchers) {
    if (!isPathMatcher(m) || m.pattern === null || m.spec.effect !== 'allow' || m.pattern.anyDepth) continue;
    // The built-in profile's broad system allows (`Read(//etc/**)`) describe what a tool may read
    // outside the sandbox; inside it, the curated system list above is stricter. Bind only what
    // a person's own policy names.
    if (m.spec.origin.scope === 'profile') continue;
    const { prefix } = literalPrefix(m.pattern.base, m.pattern.rest);
    if (prefix === '/' || within(prefix, [ws]) || !existsSync(prefix)) continue;
    // The sandbox has its own /dev, /proc and /sys; binding host device nodes would break them (nodev).
    if (within(prefix, ['/dev', '/proc', '/sys'])) continue;
    // The private HOME and /tmp are the sandbox's own; real paths under them are bound only when named.
    if (prefix === policy.context.home || prefix === '/tmp') continue;
    if (m.spec.kind === 'Edit' && editAllowed(path.join(prefix, 'x'))) readWrite.push(prefix);
    else if (m.spec.kind === 'Read' && readAllowed(path.join(prefix, 'x')) && !within(prefix, readOnly)) readOnly.push(prefix);
  }

  const bound = [ws, ...readOnly, ...readWrite];
  const hidden = new Set<string>();
  // No DNS inside the sandbox: the proxy resolves names (only those policy allows).
  for (const p of NO_DNS_FILES) if (within(p, bound) && existsSync(p)) hidden.add(p);
  const denyRead = policy.matchers.filter((m): m is PathMatcher => isPathMatcher(m) && m.spec.kind === 'Read' && m.spec.effect === 'deny');
  for (const m of denyRead) {
    if (m.pattern === null || m.pattern.anyDepth) continue;
    const { prefix, remainder } = literalPrefix(m.pattern.base, m.pattern.rest);
    if (!within(prefix, bound) && !bound.some((b) => within(b, [prefix]))) continue;
    if (remainder === '') {
      if (existsSync(prefix)) hidden.add(prefix);
    } else if (!remainder.includes('/') && existsSync(prefix)) {
      try {
        for (const name of readdirSync(prefix)) {
          const p = path.join(prefix, name);
          if (m.pattern.matches(p)) hidden.add(p);
        }
      } catch {
        // unreadable: not visible either
      }
    }
  }
  const anyDepthDeny = denyRead.filter((m) => m.pattern !== null && m.pattern.anyDepth && within(m.pattern.base, [ws]));
  const walk = anyDepthDeny.length === 0
    ? { hits: [], truncated: false }
    : walkDenied(ws, (p) => anyDepthDeny.some((m) => m.pattern?.matches(p) === true), opts.maxWalkEntries ?? 20_000);
  for (const p of walk.hits) hidden.add(p);

  const { env, removed } = scrubEnvironment(opts.env, { ...(opts.keepEnv ? { allow: opts.keepEnv } : {}) });
  const cwd = within(path.resolve(opts.cwd), [ws]) ? path.resolve(opts.cwd) : ws;
  return {
    spec: {
      workspace: ws,
      readOnly,
      readWrite,
      hidden: [...hidden],
      protectedNames: [...policy.protectedNames],
      env,
      network: opts.forceProxy === true || policyAllowsNetwork(policy)
        ? { mode: 'proxy', httpPort: SANDBOX_HTTP_PROXY_PORT, socksPort: SANDBOX_SOCKS_PORT }
        : { mode: 'none' },
      cwd,
    },
    removedEnv: removed,
    hiddenCount: walk.hits.length,
    walkTruncated: walk.truncated,
  };
}
