/**
 * Early enforcement during the run: inotify watches (through `fs.watch`, one
 * per directory, bounded) on the workspace; a newly created protected path or
 * an escaping symlink is judged and quarantined as soon as it appears. Best
 * effort by nature (there is a window between creation and the move, and
 * directories beyond the watch budget are not watched); the final sweep after
 * exit is the authoritative check.
 */
import { type FSWatcher, readdirSync, watch } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { factsOf, type WorkspaceScan } from './protect-scan.js';
import { act, judgeNewProtected, linkEscapes, type SweepContext, type Violation } from './protect-sweep.js';

export interface WatcherOptions {
  readonly maxWatches?: number;
  readonly skipDirs?: readonly string[];
}

export interface Watcher {
  close(): void;
  readonly watched: number;
}

/** Protected roots `path` falls in or equals, for the given names (segment-wise match). */
export function protectedRootOf(workspace: string, names: readonly string[], path: string): string | undefined {
  const segs = relative(workspace, path).split('/');
  for (let i = 0; i < segs.length; i++) {
    for (const n of names) {
      const ns = n.split('/');
      if (i + ns.length > segs.length) continue;
      if (ns.every((s, j) => segs[i + j] === s)) return join(workspace, ...segs.slice(0, i + ns.length));
    }
  }
  return undefined;
}

export function startWatcher(
  ctx: SweepContext,
  names: readonly string[],
  before: WorkspaceScan,
  onViolation: (v: Violation) => void,
  opts: WatcherOptions = {},
): Watcher {
  const max = opts.maxWatches ?? 4096;
  const skip = new Set(opts.skipDirs ?? ['node_modules']);
  const watchers = new Map<string, FSWatcher>();
  const pending = new Set<string>();
  let scheduled = false;
  let closed = false;

  const check = (path: string): void => {
    const facts = factsOf(path);
    if (facts === undefined) return;
    const root = protectedRootOf(ctx.workspace, names, path);
    if (root !== undefined && !before.protectedPaths.has(root)) {
      const rootFacts = factsOf(root);
      if (rootFacts === undefined) return;
      const gitDirs = new Set([...before.gitDirs, ...(basename(dirname(root)) === '.git' ? [dirname(root)] : [])]);
      for (const v of judgeNewProtected(ctx, root, rootFacts, gitDirs)) onViolation(v);
      if (factsOf(root) === undefined) return;
    }
    if (facts.kind === 'symlink' && facts.target !== undefined && linkEscapes(ctx, path, facts.target)) {
      if (before.symlinks.get(path) !== facts.target) {
        onViolation(act(ctx, 'symlink-outside', path, 'a symbolic link to a path outside the workspace was created'));
      }
      return;
    }
    if (facts.kind === 'dir' && !skip.has(basename(path))) {
      add(path);
      try {
        for (const e of readdirSync(path)) queue(join(path, e));
      } catch {
        // vanished
      }
    }
  };
  const flush = (): void => {
    scheduled = false;
    if (closed) return;
    const batch = [...pending];
    pending.clear();
    for (const p of batch) {
      try {
        check(p);
      } catch {
        // best effort: the final sweep decides
      }
    }
  };
  const queue = (p: string): void => {
    pending.add(p);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const add = (dir: string): void => {
    if (closed || watchers.has(dir) || watchers.size >= max) return;
    try {
      const w = watch(dir, { persistent: false }, (_type, name) => {
        if (name !== null) queue(join(dir, name.toString()));
      });
      w.on('error', () => {
        w.close();
        watchers.delete(dir);
      });
      watchers.set(dir, w);
    } catch {
      // directory vanished or watch budget of the host exhausted
    }
  };
  for (const d of before.dirs) add(d);
  for (const g of before.gitDirs) add(g);
  return {
    close(): void {
      closed = true;
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
    get watched(): number {
      return watchers.size;
    },
  };
}
