/**
 * A cache of compiled policies, so `cordon run` skips YAML parsing and schema
 * validation when no policy file changed. The key is a hash of cordon's
 * version, the load options, and the path and exact bytes of every scope file
 * and built-in profile; any change is a miss and goes through the full loader,
 * which reports every problem as usual. Entries live in cordon's state
 * directory, which is a mandatory write protection (agents cannot plant one),
 * and are rebuilt into matchers with the same compiler the loader uses.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stateDir } from '../audit/paths.js';
import type { LoadedPolicy } from './load.js';
import { mandatoryEntries } from './mandatory.js';
import { compileRule } from './match/compile.js';
import { BUILTIN_PROFILES, PROFILE_DIR, resolveHome, scopeFiles, type LoadOptions } from './scopes.js';
import type { PathContext } from './types.js';

const FORMAT = 1;

type Stored = Omit<LoadedPolicy, 'matchers' | 'context'> & { readonly key: string; readonly format: number };

function cordonVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    return '?';
  }
}

/** The size and modification time of the running code, so a rebuilt cordon never reuses entries of another build. */
function codeIdentity(): string {
  try {
    const st = statSync(fileURLToPath(import.meta.url));
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return '?';
  }
}

/** The cache key, or null when a file cannot be read (the full loader then reports it). */
export function policyCacheKey(options: LoadOptions): string | null {
  const h = createHash('sha256');
  h.update(JSON.stringify({ format: FORMAT, version: cordonVersion(), code: codeIdentity(), workspace: path.resolve(options.workspace), home: resolveHome(options), profile: options.profile ?? null }));
  // The built-in mandatory list is part of every policy: a changed list must never be served stale.
  h.update(JSON.stringify(mandatoryEntries()));
  for (const { scope, file } of scopeFiles(options)) {
    let bytes: Buffer | null;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return null;
      bytes = null;
    }
    h.update(`\0${scope}\0${file}\0${bytes === null ? '-' : `${bytes.length}\0`}`);
    if (bytes !== null) h.update(bytes);
  }
  for (const name of BUILTIN_PROFILES) h.update(readFileSync(new URL(`${name}.yaml`, PROFILE_DIR)));
  return h.digest('hex');
}

function cacheDir(): string {
  return path.join(stateDir(), 'cache');
}

function rebuild(stored: Stored, context: PathContext): LoadedPolicy {
  const { key: _k, format: _f, ...rest } = stored;
  return { ...rest, context, matchers: stored.rules.map((r) => compileRule(r, context)) };
}

function read(file: string, key: string, context: PathContext): LoadedPolicy | null {
  try {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Stored;
    if (stored.key !== key || stored.format !== FORMAT || !Array.isArray(stored.rules)) return null;
    return rebuild(stored, context);
  } catch {
    return null;
  }
}

function write(dir: string, file: string, key: string, loaded: LoadedPolicy): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { matchers: _m, context: _c, ...rest } = loaded;
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ ...rest, key, format: FORMAT } satisfies Stored), { mode: 0o600 });
    renameSync(tmp, file);
    // Keep the cache small: past 64 entries, drop all but this one.
    const entries = readdirSync(dir).filter((n) => n.startsWith('policy-') && n.endsWith('.json'));
    if (entries.length > 64) for (const n of entries) if (path.join(dir, n) !== file) rmSync(path.join(dir, n), { force: true });
  } catch {
    // A cache that cannot be written only costs time.
  }
}

/** Loads the effective policy, from the cache when no input changed. Problems throw as with `loadPolicy`. */
export async function loadPolicyCached(options: LoadOptions): Promise<LoadedPolicy> {
  const key = policyCacheKey(options);
  const context: PathContext = { workspace: path.resolve(options.workspace), home: resolveHome(options) };
  const dir = cacheDir();
  const file = key === null ? null : path.join(dir, `policy-${key}.json`);
  if (key !== null && file !== null) {
    const hit = read(file, key, context);
    if (hit) return hit;
  }
  const { loadPolicy } = await import('./load.js');
  const loaded = loadPolicy(options);
  if (key !== null && file !== null) write(dir, file, key, loaded);
  return loaded;
}
