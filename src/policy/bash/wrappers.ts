/**
 * Command prefixes that run the rest of the line as a command: which ones are
 * removed from a part's canonical text (they only change scheduling) and
 * which ones are removed only for deny forms (they change who runs it, or
 * with which environment, but the inner command is still what deny rules are
 * about). Also the variable-name lists for assignments.
 */
import type { Word } from './words.js';

interface WrapperSpec {
  /** Options that take a value (`-n 5`, `-n5`, `--signal=KILL`, `--signal KILL`). */
  readonly withValue?: readonly string[];
  /** Options after which the word is not a wrapper any more (`command -v`). */
  readonly refuse?: readonly string[];
  /** Takes no options at all. */
  readonly noOptions?: boolean;
  /** Positional words consumed after the options (the duration of `timeout`). */
  readonly positional?: number;
  /** `NAME=VALUE` words may follow the options (`env`, `sudo`). */
  readonly assignments?: boolean;
  /** `-10` is an option (`nice`); a lone `-` is an option (`env -`). */
  readonly numericOption?: boolean;
  readonly dashOption?: boolean;
}

/** Wrappers that only change scheduling: removed from the canonical text. */
const SCHEDULING: ReadonlyMap<string, WrapperSpec> = new Map<string, WrapperSpec>([
  ['timeout', { withValue: ['-s', '-k', '--signal', '--kill-after'], positional: 1 }],
  ['nice', { withValue: ['-n', '--adjustment'], numericOption: true }],
  ['nohup', { noOptions: true }],
  ['time', { refuse: [] }],
  ['stdbuf', { withValue: ['-i', '-o', '-e', '--input', '--output', '--error'] }],
  ['ionice', { withValue: ['-c', '-n', '--class', '--classdata'], refuse: ['-p', '-P', '-u', '--pid', '--pgid', '--uid'] }],
  ['command', { refuse: ['-v', '-V'] }],
  ['builtin', { noOptions: true }],
  ['exec', { noOptions: true }],
]);

/** Every wrapper, for deny forms: the scheduling ones plus those that change identity or environment. */
const ALL: ReadonlyMap<string, WrapperSpec> = new Map<string, WrapperSpec>([
  ...SCHEDULING,
  ['exec', { withValue: ['-a'] }],
  ['env', { withValue: ['-u', '--unset', '-C', '--chdir'], assignments: true, dashOption: true }],
  [
    'sudo',
    {
      withValue: ['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-T', '-U', '--user', '--group', '--close-from', '--chdir', '--host', '--prompt', '--role', '--type', '--command-timeout', '--other-user'],
      refuse: ['-e', '-l', '-v', '-k', '-K', '--edit', '--list', '--validate'],
      assignments: true,
    },
  ],
  ['doas', { withValue: ['-u', '-C'] }],
  ['xargs', { withValue: ['-a', '-d', '-E', '-I', '-L', '-n', '-P', '-s', '--arg-file', '--delimiter', '--max-args', '--max-procs', '--max-chars', '--process-slot-var'] }],
  ['setsid', {}],
]);

const ASSIGNMENT_WORD = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** How many option words follow index `start` for this wrapper, or `null` when the words do not fit it. */
function optionWords(spec: WrapperSpec, words: readonly Word[], start: number): number | null {
  let i = start;
  while (i < words.length && spec.noOptions !== true) {
    const w = words[i]?.value;
    if (w === null || w === undefined || !w.startsWith('-')) break;
    if (w === '--') return i + 1 - start;
    if (w === '-') {
      if (spec.dashOption !== true) break;
      i++;
      continue;
    }
    if (spec.numericOption === true && /^-\d+$/.test(w)) {
      i++;
      continue;
    }
    const name = w.startsWith('--') ? w.split('=')[0] ?? w : w.slice(0, 2);
    if (spec.refuse?.includes(name) === true) return null;
    const attached = w.startsWith('--') ? w.includes('=') : w.length > 2;
    // A value-taking option either carries its value (`-n5`, `--x=y`) or takes the next word.
    i += spec.withValue?.includes(name) === true && !attached ? 2 : 1;
  }
  if (spec.noOptions === true && words[i]?.value?.startsWith('-') === true) return null;
  return i - start;
}

/** Number of words the wrapper at `start` consumes (itself included), or `null` if it is not a wrapper here. */
function wrapperLength(table: ReadonlyMap<string, WrapperSpec>, words: readonly Word[], start: number, byBasename: boolean): number | null {
  const value = words[start]?.value;
  const name = value === null || value === undefined ? undefined : byBasename ? basename(value) : value;
  const spec = name === undefined ? undefined : table.get(name);
  if (spec === undefined) return null;
  const options = optionWords(spec, words, start + 1);
  if (options === null) return null;
  let end = start + 1 + options + (spec.positional ?? 0);
  if (spec.assignments === true) {
    while (ASSIGNMENT_WORD.test(words[end]?.value ?? '')) end++;
  }
  // Only a wrapper when a command follows it (`nohup` alone is just `nohup`).
  return end < words.length ? end - start : null;
}

function strip(table: ReadonlyMap<string, WrapperSpec>, words: readonly Word[], byBasename: boolean): readonly Word[] {
  let start = 0;
  for (let n = wrapperLength(table, words, start, byBasename); n !== null; n = wrapperLength(table, words, start, byBasename)) {
    start += n;
  }
  return words.slice(start);
}

/** The last path segment of a command name (`/usr/bin/curl` -> `curl`); the name itself when it has none. */
export function basename(name: string): string {
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last === '' ? name : last;
}

/** Removes leading wrappers that only change scheduling (`timeout 5`, `nice -n 10`, `nohup`...). */
export function stripSchedulingWrappers(words: readonly Word[]): readonly Word[] {
  return strip(SCHEDULING, words, false);
}

/** Removes every known leading wrapper, including `env`, `sudo`, `doas` and `xargs`, also when named by path (`/usr/bin/env`). */
export function stripAllWrappers(words: readonly Word[]): readonly Word[] {
  return strip(ALL, words, true);
}

/** `env -S` / `--split-string` splits a string into a command line: it cannot be followed statically. */
export function usesEnvSplitString(words: readonly Word[]): boolean {
  const i = words.findIndex((w) => w.value !== null && basename(w.value) === 'env');
  if (i < 0) return false;
  return words.slice(i + 1).some((w) => w.value !== null && /^(-[^-]*S|--split-string)/.test(w.value));
}

const HARMLESS_VARS = new Set([
  'CI', 'NODE_ENV', 'FORCE_COLOR', 'NO_COLOR', 'CLICOLOR', 'CLICOLOR_FORCE', 'COLORTERM', 'TZ', 'LANG',
  'LANGUAGE', 'DEBUG', 'RUST_BACKTRACE', 'RUST_LOG', 'TERM', 'COLUMNS', 'LINES', 'NODE_NO_WARNINGS',
]);

/** Assignments that cannot change what program runs or what it loads; removed from the canonical text. */
export function isHarmlessVariable(name: string): boolean {
  return HARMLESS_VARS.has(name) || name === 'LC_ALL' || /^LC_[A-Z]+$/.test(name);
}

const DANGEROUS_VARS = new Set([
  'PATH', 'IFS', 'ENV', 'PROMPT_COMMAND', 'PS4', 'SHELLOPTS', 'BASHOPTS', 'CDPATH', 'GLOBIGNORE',
  'HOME', 'NODE_OPTIONS', 'NODE_PATH', 'EDITOR', 'VISUAL', 'PAGER', 'MANPAGER', 'BROWSER', 'SHELL', 'FPATH',
  'ZDOTDIR', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'CLASSPATH', 'LESSOPEN', 'LESSCLOSE', 'PERLLIB', 'TMPDIR',
]);
const DANGEROUS_PREFIXES = ['LD_', 'DYLD_', 'GIT_', 'PYTHON', 'PERL5', 'RUBY', 'NPM_CONFIG_', 'npm_config_', 'BASH_', 'XDG_'];

/** Variables whose value, once set in the shell, changes what later commands run or load. */
export function isDangerousVariable(name: string): boolean {
  return DANGEROUS_VARS.has(name) || DANGEROUS_PREFIXES.some((p) => name.startsWith(p));
}
