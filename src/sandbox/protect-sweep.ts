/**
 * Enforcement of "protected names cannot be created": compares a workspace
 * scan with the scan taken before the run and moves what the sandbox created
 * to a quarantine directory outside the workspace. Used by the watcher during
 * the run (early, best effort) and once after the sandbox has exited (final,
 * no race: every sandboxed process is dead by then).
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { checkGitConfig } from './git-config-check.js';
import { type EntryFacts, factsOf, type WorkspaceScan } from './protect-scan.js';

export type ViolationKind = 'protected-created' | 'protected-changed' | 'symlink-outside' | 'git-config-unsafe' | 'git-hook-created';

export interface Violation {
  readonly kind: ViolationKind;
  /** Absolute path on the host. */
  readonly path: string;
  readonly action: 'quarantined' | 'reported';
  readonly detail: string;
  /** Where the entry was moved, when quarantined. */
  readonly quarantinedTo?: string;
}

export interface SweepContext {
  readonly workspace: string;
  readonly quarantineDir: string;
  /** Roots a new symlink may point into besides the workspace (system read-only paths). */
  readonly allowedLinkRoots: readonly string[];
}

const MAX_CONFIG_BYTES = 256 * 1024;

function within(p: string, root: string): boolean {
  return p === root || p.startsWith(root.endsWith('/') ? root : root + '/');
}

/** Move `path` below the quarantine directory (copy and delete across file systems). */
export function quarantine(ctx: SweepContext, path: string): string {
  const dest = join(ctx.quarantineDir, relative(ctx.workspace, path));
  mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
  let target = dest;
  for (let i = 1; factsOf(target) !== undefined; i++) target = `${dest}.${i}`;
  try {
    renameSync(path, target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    cpSync(path, target, { recursive: true, verbatimSymlinks: true });
    rmSync(path, { recursive: true, force: true });
  }
  return target;
}

export function act(ctx: SweepContext, kind: ViolationKind, path: string, detail: string): Violation {
  try {
    return { kind, path, action: 'quarantined', detail, quarantinedTo: quarantine(ctx, path) };
  } catch (e) {
    return { kind, path, action: 'reported', detail: `${detail}; quarantine failed: ${(e as Error).message}` };
  }
}

function sameEntry(a: EntryFacts, b: EntryFacts): boolean {
  if (a.kind !== b.kind || a.ino !== b.ino || a.dev !== b.dev) return false;
  if (a.kind === 'symlink') return a.target === b.target;
  return a.kind === 'dir' || (a.size === b.size && a.mtimeMs === b.mtimeMs);
}

/** Judge one new protected path; hooks dirs and git configs get a finer check than "quarantine it all". */
export function judgeNewProtected(ctx: SweepContext, path: string, facts: EntryFacts, gitDirs: ReadonlySet<string>): Violation[] {
  const inGitDir = gitDirs.has(dirname(path));
  if (inGitDir && basename(path) === 'hooks' && facts.kind === 'dir') {
    // `git init` copies *.sample templates, which git never runs; anything else is a hook.
    const out: Violation[] = [];
    for (const e of readdirSync(path, { withFileTypes: true })) {
      if (e.isFile() && e.name.endsWith('.sample')) continue;
      out.push(act(ctx, 'git-hook-created', join(path, e.name), 'a git hook was created during the run'));
    }
    return out;
  }
  if (inGitDir && basename(path) === 'config' && facts.kind === 'file') {
    let text: string;
    try {
      if (statSync(path).size > MAX_CONFIG_BYTES) throw new Error('too large');
      text = readFileSync(path, 'utf8');
    } catch {
      return [act(ctx, 'git-config-unsafe', path, 'new git config could not be checked')];
    }
    const v = checkGitConfig(text);
    if (v.ok) return [];
    return [act(ctx, 'git-config-unsafe', path, `new git config sets keys outside the allowlist: ${v.offending.join(', ')}`)];
  }
  return [act(ctx, 'protected-created', path, `protected name created during the run (${relative(ctx.workspace, path)})`)];
}

/** True when a symlink's text points outside the workspace and the allowed roots. */
export function linkEscapes(ctx: SweepContext, link: string, text: string): boolean {
  const target = resolve(dirname(link), text);
  if (within(target, ctx.workspace)) return false;
  return !ctx.allowedLinkRoots.some((r) => within(target, r));
}

/** Compare `after` with `before`; quarantine what the run created. */
export function sweep(ctx: SweepContext, before: WorkspaceScan, after: WorkspaceScan): Violation[] {
  const out: Violation[] = [];
  const gitDirs = new Set(after.gitDirs);
  const gone = new Set<string>();
  for (const [path, facts] of after.protectedPaths) {
    if ([...gone].some((g) => within(path, g))) continue;
    const old = before.protectedPaths.get(path);
    if (old !== undefined && old.kind === facts.kind && old.ino === facts.ino && old.dev === facts.dev) {
      if (!sameEntry(old, facts)) {
        out.push({ kind: 'protected-changed', path, action: 'reported', detail: 'a protected path changed during the run' });
      }
      continue;
    }
    const vs = judgeNewProtected(ctx, path, facts, gitDirs);
    for (const v of vs) if (v.action === 'quarantined') gone.add(v.path);
    out.push(...vs);
  }
  for (const [link, text] of after.symlinks) {
    if (before.symlinks.get(link) === text || [...gone].some((g) => within(link, g))) continue;
    if (factsOf(link)?.kind !== 'symlink') continue;
    if (linkEscapes(ctx, link, text)) out.push(act(ctx, 'symlink-outside', link, 'a symbolic link to a path outside the workspace was created'));
  }
  return out;
}
