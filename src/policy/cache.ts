/**
 * A cache of compiled policies, so `cordon run` skips YAML parsing and schema
 * validation when no policy file changed. The key is a hash of cordon's
 * version, the load options, and the path and exact bytes of every scope file
 * and built-in profile; any change is a miss and goes through the full loader,
 * which reports every problem as usual. Entries live in cordon's state
 * directory, which is a mandatory write protection (agents cannot plant one),
 * and are rebuilt into matchers with the same compiler the loader uses.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stateDir } from '../audit/paths.js';
import { CACHE_FORMAT, policyCacheFile, policyCacheKey } from './cache-key.js';
import type { LoadedPolicy } from './load.js';
import { compileRule } from './match/compile.js';
import { resolveHome, type LoadOptions } from './scopes.js';
import type { PathContext } from './types.js';

export { policyCacheKey } from './cache-key.js';

const FORMAT = CACHE_FORMAT;

type Stored = Omit<LoadedPolicy, 'matchers' | 'context'> & { readonly key: string; readonly format: number };

export function cacheDir(): string {
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

/** Loads the effective policy, from the cache when no input changed. Problems throw as with `loadPolicy`. `knownKey`: the key, when the caller computed it already. */
export async function loadPolicyCached(options: LoadOptions, knownKey?: string | null): Promise<LoadedPolicy> {
  const key = knownKey === undefined ? policyCacheKey(options) : knownKey;
  const context: PathContext = { workspace: path.resolve(options.workspace), home: resolveHome(options) };
  const dir = cacheDir();
  const file = key === null ? null : policyCacheFile(key);
  if (key !== null && file !== null) {
    const hit = read(file, key, context);
    if (hit) return hit;
  }
  const { loadPolicy } = await import('./load.js');
  const loaded = loadPolicy(options);
  if (key !== null && file !== null) write(dir, file, key, loaded);
  return loaded;
}
