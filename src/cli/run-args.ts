/**
 * A small, strict parser for the common shapes of `cordon run`, so the hot
 * path skips loading the full command-line library. It understands exactly
 * the options `run` declares in main.ts; anything else (help, an unknown or
 * malformed option, a missing value) returns `null` and the full parser takes
 * over, which prints the usual messages. It never guesses.
 */
import type { RunCommandOptions } from './run-cmd.js';

export interface ParsedRun {
  readonly cmd: string[];
  readonly opts: RunCommandOptions;
}

const VALUE_OPTIONS = new Map<string, 'policy' | 'profile' | 'workspace'>([
  ['-p', 'policy'], ['--policy', 'policy'],
  ['--profile', 'profile'],
  ['-w', 'workspace'], ['--workspace', 'workspace'],
]);

/** Parses `argv` after `run` (e.g. `['--policy', 'f.yaml', '--', 'true']`); `null` means "let the full parser decide". */
export function parseRunArgs(argv: readonly string[]): ParsedRun | null {
  const policy: string[] = [];
  let profile: string | undefined;
  let workspace: string | undefined;
  let keepEnv: string[] | undefined;
  let reportOnly = false;
  let i = 0;
  while (i < argv.length) {
    const a = argv[i] ?? '';
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break; // the command starts here (options after it are its own)
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq === -1 ? a : a.slice(0, eq);
    const kind = VALUE_OPTIONS.get(name);
    if (kind !== undefined) {
      const value = eq === -1 ? argv[i + 1] : a.slice(eq + 1);
      if (value === undefined || value === '' || (eq === -1 && value.startsWith('-'))) return null;
      if (kind === 'policy') policy.push(value);
      else if (kind === 'profile') {
        if (profile !== undefined) return null;
        profile = value;
      } else {
        if (workspace !== undefined) return null;
        workspace = value;
      }
      i += eq === -1 ? 2 : 1;
      continue;
    }
    if (a === '--report-only') {
      reportOnly = true;
      i++;
      continue;
    }
    if (a === '--keep-env') {
      // Variadic, as declared: names up to the next option or `--`.
      const names: string[] = [];
      i++;
      while (i < argv.length && !(argv[i] ?? '-').startsWith('-')) names.push(argv[i++] ?? '');
      if (names.length === 0) return null;
      keepEnv = [...(keepEnv ?? []), ...names];
      continue;
    }
    return null; // --help, -h, unknown or combined flags: the full parser explains
  }
  const cmd = argv.slice(i);
  if (cmd.length === 0) return null;
  return {
    cmd: [...cmd],
    opts: {
      ...(policy.length === 0 ? {} : { policy }),
      ...(profile === undefined ? {} : { profile }),
      ...(workspace === undefined ? {} : { workspace }),
      ...(keepEnv === undefined ? {} : { keepEnv }),
      ...(reportOnly ? { reportOnly: true } : {}),
    },
  };
}
