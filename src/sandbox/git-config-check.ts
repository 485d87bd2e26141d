/**
 * Allowlist check for a git config file created during a run (a freshly
 * `git init`-ed nested repository). `git init` writes only harmless keys; any
 * key that can run a program or redirect git (core.hooksPath, core.fsmonitor,
 * core.sshCommand, aliases, filters, include.path, url.*.insteadOf, ...) is
 * outside the allowlist, and so is anything that does not parse.
 */

const ALLOWED: readonly RegExp[] = [
  /^core\.(repositoryformatversion|filemode|bare|logallrefupdates|ignorecase|precomposeunicode|symlinks|autocrlf|eol|safecrlf|quotepath|abbrev|compression)$/,
  /^remote\.[^.]+\.(url|pushurl|fetch|tagopt|mirror|prune|promisor|partialclonefilter)$/,
  /^branch\.[^.]+\.(remote|merge|rebase)$/,
  /^submodule\.[^.]+\.(url|active)$/,
  /^user\.(name|email)$/,
  /^init\.defaultbranch$/,
  /^extensions\.(objectformat|refstorage|partialclone)$/,
  /^(gc\.auto|pull\.rebase|push\.default|fetch\.prune|index\.version|merge\.conflictstyle|diff\.algorithm)$/,
  /^(advice|color|i18n)\.[a-z0-9.-]+$/,
];

export interface GitConfigVerdict {
  readonly ok: boolean;
  /** Keys outside the allowlist (names only, never values). */
  readonly offending: string[];
}

/** Parse `text` as git config and check every key against the allowlist. */
export function checkGitConfig(text: string): GitConfigVerdict {
  const offending: string[] = [];
  let section: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]\s*(.*)$/.exec(line);
    if (head !== null) {
      const name = (head[1] ?? '').toLowerCase();
      if (name.includes('.')) {
        offending.push(`[${name}] (deprecated subsection syntax)`);
        section = undefined;
      } else {
        section = head[2] === undefined ? name : `${name}.${head[2]}`;
      }
      const rest = head[3] ?? '';
      if (rest === '' || rest.startsWith('#') || rest.startsWith(';')) continue;
      offending.push(`${section ?? name}: text after a section header`);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(=|$)/.exec(line);
    if (kv === null || section === undefined) {
      offending.push('unparseable line');
      continue;
    }
    const key = `${section}.${(kv[1] ?? '').toLowerCase()}`;
    const check = key.replace(/^([^.]+)\.(.*)\.([^.]+)$/, (_m, a: string, sub: string, k: string) => `${a.toLowerCase()}.${sub}.${k}`);
    if (!ALLOWED.some((re) => re.test(check))) offending.push(key);
    if (raw.trimEnd().endsWith('\\')) offending.push(`${key}: line continuation`);
  }
  return { ok: offending.length === 0, offending };
}
