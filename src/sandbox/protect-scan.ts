/**
 * Bounded walk of the workspace that finds protected paths at every depth,
 * git directories (named `.git`, or bare-shaped: HEAD + objects/ + refs/)
 * and symbolic links. Used before the run (to bind protected paths read-only)
 * and after it (to find what was created). Breadth-first so that a huge tree
 * truncates deep directories first; `node_modules` is not descended.
 */
import { type Dirent, lstatSync, readlinkSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { type ListDir, readDirEntries } from './dir-listing.js';

export interface ScanLimits {
  /** Maximum number of directories read. */
  readonly maxDirs: number;
  readonly maxDepth: number;
  /** Directory names never descended. */
  readonly skipDirs: readonly string[];
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = { maxDirs: 20_000, maxDepth: 32, skipDirs: ['node_modules'] };

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

export interface EntryFacts {
  readonly kind: EntryKind;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly target?: string;
}

export interface WorkspaceScan {
  /** Protected paths that exist, absolute, with their facts at scan time. */
  readonly protectedPaths: Map<string, EntryFacts>;
  /** Every symbolic link seen, absolute path to link text. */
  readonly symlinks: Map<string, string>;
  /** Git directories (`.git` dirs and bare-shaped dirs), absolute. */
  readonly gitDirs: string[];
  /** Directories read, absolute (the watcher subscribes to these). */
  readonly dirs: string[];
  readonly truncated: boolean;
}

/** Names inside a git directory that are protected like `.git/hooks` and `.git/config`. */
export const GIT_DIR_PROTECTED = ['hooks', 'config', 'info/attributes'] as const;

export function factsOf(path: string): EntryFacts | undefined {
  try {
    const st = lstatSync(path, { throwIfNoEntry: false }); // absence is the common case: no exception to build
    if (st === undefined) return undefined;
    const kind: EntryKind = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    const base = { kind, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    return kind === 'symlink' ? { ...base, target: readlinkSync(path) } : base;
  } catch {
    return undefined;
  }
}

function isBareShaped(entries: readonly Dirent[]): boolean {
  let head = false;
  let objects = false;
  let refs = false;
  for (const e of entries) {
    if (e.name === 'HEAD' && e.isFile()) head = true;
    else if (e.name === 'objects' && e.isDirectory()) objects = true;
    else if (e.name === 'refs' && e.isDirectory()) refs = true;
  }
  return head && objects && refs;
}

/** Walk `workspace` within `limits`, collecting protected paths for `names`. */
export function scanWorkspace(
  root: string,
  names: readonly string[],
  limits: ScanLimits = DEFAULT_SCAN_LIMITS,
  list: ListDir = readDirEntries,
): WorkspaceScan {
  const workspace = normalize(root); // then prefix + name below is what path.join would give
  const single = new Set<string>();
  const multi = new Map<string, string[]>(); // first segment -> full names
  for (const n of names) {
    const first = n.split('/')[0] ?? n;
    if (first === n) single.add(n);
    else multi.set(first, [...(multi.get(first) ?? []), n]);
  }
  const out = { protectedPaths: new Map<string, EntryFacts>(), symlinks: new Map<string, string>(), gitDirs: [] as string[], dirs: [] as string[], truncated: false };
  const record = (p: string): void => {
    const f = factsOf(p);
    if (f !== undefined) out.protectedPaths.set(p, f);
  };
  const gitNames = new Set<string>(GIT_DIR_PROTECTED);
  for (const n of names) if (n.startsWith('.git/')) gitNames.add(n.slice(5));
  const gitDir = (dir: string): void => {
    out.gitDirs.push(dir);
    for (const n of gitNames) record(join(dir, n));
  };
  let queue: { dir: string; depth: number }[] = [{ dir: workspace, depth: 0 }];
  let read = 0;
  while (queue.length > 0) {
    const next: { dir: string; depth: number }[] = [];
    for (const { dir, depth } of queue) {
      if (read >= limits.maxDirs) {
        out.truncated = true;
        break;
      }
      let entries: Dirent[];
      try {
        entries = list(dir);
      } catch {
        continue;
      }
      read++;
      out.dirs.push(dir);
      if (dir !== workspace && isBareShaped(entries)) {
        gitDir(dir);
        continue;
      }
      const prefix = dir.endsWith('/') ? dir : `${dir}/`; // dir is absolute and normalized: no path.join per entry
      for (const e of entries) {
        const p = prefix + e.name;
        if (e.isSymbolicLink()) {
          try {
            out.symlinks.set(p, readlinkSync(p));
          } catch {
            // vanished
          }
        }
        if (e.name === '.git' && e.isDirectory()) {
          gitDir(p);
          // Submodule git dirs live under .git/modules; walk them, nothing else of .git.
          next.push({ dir: join(p, 'modules'), depth: depth + 1 });
          continue;
        }
        if (single.has(e.name)) record(p);
        for (const full of multi.get(e.name) ?? []) if (!full.startsWith('.git/')) record(join(dir, full));
        if (e.name === '.git' && single.has('.git')) continue;
        if (e.isDirectory() && !single.has(e.name) && !limits.skipDirs.includes(e.name) && depth + 1 <= limits.maxDepth) {
          next.push({ dir: p, depth: depth + 1 });
        }
      }
    }
    if (out.truncated) break;
    queue = next;
  }
  return out;
}
