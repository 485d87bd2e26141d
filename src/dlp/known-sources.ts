/**
 * Collects the user's real secret values for known-secret matching, in the
 * supervisor (never in the proxy): variables named by `dlp.known_secrets.env`
 * (globs; default: credential-like names), lines of `dlp.known_secrets.files`,
 * and every variable the sandbox's scrubber removed because it looked like a
 * credential. Only fingerprints leave this process.
 */
import { readFileSync } from 'node:fs';
import { KnownSecretSet } from './fingerprint.js';

export const DEFAULT_KNOWN_SECRET_ENV: readonly string[] = [
  '*_TOKEN', '*_KEY', '*_SECRET', '*_SECRET_*', '*_PASSWORD', '*_PASS', '*_API_KEY', '*_ACCESS_KEY', '*_CREDENTIALS', '*TOKEN*',
];

/** Shortest value that is fingerprinted (shorter values would match by chance). */
export const MIN_KNOWN_SECRET_LENGTH = 16;

function globToRegex(glob: string): RegExp {
  const src = glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${src}$`, 'i');
}

export interface KnownSources {
  readonly env: NodeJS.ProcessEnv;
  /** `dlp.known_secrets.env` (name globs); default DEFAULT_KNOWN_SECRET_ENV. */
  readonly envGlobs?: readonly string[];
  /** `dlp.known_secrets.files`: one secret per line. */
  readonly files?: readonly string[];
  /** Names the environment scrubber removed. */
  readonly scrubbed?: readonly string[];
}

export interface CollectedSecrets {
  readonly set: KnownSecretSet;
  /** Labels only (variable names, file:line), never values. */
  readonly labels: readonly string[];
  /** Files that could not be read, with the reason. */
  readonly problems: readonly string[];
}

export function collectKnownSecrets(src: KnownSources): CollectedSecrets {
  const set = new KnownSecretSet();
  const labels: string[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const add = (label: string, value: string | undefined): void => {
    const v = value?.trim();
    if (v === undefined || [...v].length < MIN_KNOWN_SECRET_LENGTH || seen.has(v)) return;
    // A filesystem path or a list of them (HOME, XDG_*, PATH-like values) is not a secret, and
    // agents legitimately send their working directory to their model API.
    if (/^[~.]?\/[^\s]*$/.test(v) || /^(?:\/[^:\s]*)(?::\/[^:\s]*)+$/.test(v)) return;
    seen.add(v);
    set.add(label, v);
    labels.push(label);
  };
  const globs = (src.envGlobs ?? DEFAULT_KNOWN_SECRET_ENV).map(globToRegex);
  for (const [name, value] of Object.entries(src.env)) {
    if (globs.some((g) => g.test(name)) || src.scrubbed?.includes(name) === true) add(`env:${name}`, value);
  }
  for (const file of src.files ?? []) {
    try {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => add(`file:${file}:${i + 1}`, line));
    } catch (e) {
      problems.push(`${file}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  }
  return { set, labels, problems };
}
