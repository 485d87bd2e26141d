/**
 * Files under a directory for `cordon scan`, honouring `.gitignore` files at
 * every level (and never entering `.git`). Symbolic links are not followed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ignoredBy, parseGitignore, type IgnoreRule } from './gitignore.js';

interface Scope {
  readonly dir: string;
  readonly rules: readonly IgnoreRule[];
}

function isIgnored(scopes: readonly Scope[], full: string, isDir: boolean): boolean {
  let verdict = false;
  for (const s of scopes) {
    const rel = path.relative(s.dir, full).split(path.sep).join('/');
    const v = ignoredBy(s.rules, rel, isDir);
    if (v !== undefined) verdict = v;
  }
  return verdict;
}

export function* walkFiles(root: string, scopes: readonly Scope[] = []): Generator<string> {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return;
  }
  let here = scopes;
  if (entries.some((e) => e.name === '.gitignore' && e.isFile())) {
    try {
      here = [...scopes, { dir: root, rules: parseGitignore(readFileSync(path.join(root, '.gitignore'), 'utf8')) }];
    } catch {
      // unreadable .gitignore: keep the outer rules
    }
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = path.join(root, e.name);
    if (e.isDirectory()) {
      if (e.name === '.git' || isIgnored(here, full, true)) continue;
      yield* walkFiles(full, here);
    } else if (e.isFile() && !isIgnored(here, full, false)) {
      yield full;
    }
  }
}
