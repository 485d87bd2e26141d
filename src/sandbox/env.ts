/**
 * Environment scrubbing: only an allowlist of harmless names passes, and an
 * allowlisted variable whose value looks like a credential is removed too.
 * Removed names are reported; values never are.
 */

/** Names that pass by default. `LC_*` is matched as a prefix. */
export const DEFAULT_ENV_ALLOW: readonly string[] = [
  'PATH',
  'LANG',
  'LANGUAGE',
  'LC_*',
  'TERM',
  'COLORTERM',
  'TERM_PROGRAM',
  'TERM_PROGRAM_VERSION',
  'COLUMNS',
  'LINES',
  'TZ',
  'USER',
  'LOGNAME',
  'SHELL',
  'NO_COLOR',
  'FORCE_COLOR',
  'CLICOLOR',
  'CI',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'LESS',
  'SOURCE_DATE_EPOCH',
];

export interface ScrubOptions {
  /** Extra names to allow (exact, or a prefix ending in `*`). */
  readonly allow?: readonly string[];
  /** Private HOME inside the sandbox; sets HOME (and XDG dirs below it). */
  readonly home?: string;
  /** Private TMPDIR inside the sandbox. */
  readonly tmp?: string;
}

export interface ScrubResult {
  readonly env: Record<string, string>;
  /** Names that were present and removed, sorted. */
  readonly removed: string[];
}

const TOKEN_PREFIXES: readonly RegExp[] = [
  /\bghp_[A-Za-z0-9]{20,}/,
  /\bgh[ousr]_[A-Za-z0-9]{20,}/,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/,
  /\bsk-ant-[A-Za-z0-9_-]{10,}/,
  /\bsk-[A-Za-z0-9_-]{16,}/,
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/,
  /\bglpat-[A-Za-z0-9_-]{16,}/,
  /\bnpm_[A-Za-z0-9]{30,}/,
  /\bAIza[0-9A-Za-z_-]{30,}/,
  /\b(?:sk|rk)_live_[A-Za-z0-9]{16,}/,
  /\bhf_[A-Za-z0-9]{30,}/,
  /-----BEGIN [A-Z ]*(?:PRIVATE KEY|CERTIFICATE)-----/,
  /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./,
];

/** The prefixes as one pattern: one compilation and one scan per value (this runs at every start, before any JIT). */
const ANY_TOKEN_PREFIX = new RegExp(TOKEN_PREFIXES.map((re) => `(?:${re.source})`).join('|'));

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function hasUrlPassword(value: string): boolean {
  if (!value.includes('://')) return false; // the common case, without a regex iterator per value
  for (const m of value.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s]+/gi)) {
    try {
      if (new URL(m[0]).password !== '') return true;
    } catch {
      // not a URL; ignore
    }
  }
  return false;
}

/** True when a value looks like a credential: a token prefix, a PEM block, a URL with a password, or a long random string. */
export function looksLikeCredential(value: string): boolean {
  if (ANY_TOKEN_PREFIX.test(value)) return true;
  if (hasUrlPassword(value)) return true;
  // Long random runs: letters and digits mixed, high entropy. Paths are
  // split on `/` first so long directory names do not count.
  for (const m of value.matchAll(/[A-Za-z0-9+/_=-]{24,}/g)) {
    const run = m[0];
    if (run.length >= 32 && /[0-9]/.test(run) && /[A-Z]/.test(run) && /[a-z]/.test(run) && entropy(run) >= 4.2) return true;
    for (const seg of m[0].split('/')) {
      if (seg.length < 24 || !/[0-9]/.test(seg) || !/[A-Za-z]/.test(seg)) continue;
      if (entropy(seg) >= 3.5) return true;
    }
  }
  return false;
}

function matches(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

/**
 * Keep only allowlisted variables whose values do not look like credentials;
 * then set HOME/TMPDIR (and XDG dirs) to the private directories when given.
 */
export function scrubEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  options: ScrubOptions = {},
): ScrubResult {
  const allow = [...DEFAULT_ENV_ALLOW, ...(options.allow ?? [])];
  const out: Record<string, string> = {};
  const removed: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (!matches(name, allow) || looksLikeCredential(value) || value.includes('\0')) {
      removed.push(name);
      continue;
    }
    out[name] = value;
  }
  if (options.home !== undefined) {
    out['HOME'] = options.home;
    out['XDG_CONFIG_HOME'] = `${options.home}/.config`;
    out['XDG_CACHE_HOME'] = `${options.home}/.cache`;
    out['XDG_DATA_HOME'] = `${options.home}/.local/share`;
    out['XDG_STATE_HOME'] = `${options.home}/.local/state`;
  }
  if (options.tmp !== undefined) out['TMPDIR'] = options.tmp;
  return { env: out, removed: removed.sort() };
}
