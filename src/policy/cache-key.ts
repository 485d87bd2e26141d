/**
 * The key of cached compiled policies and sandbox plans: a hash of cordon's
 * version and build, the load options, the built-in mandatory list, and the
 * path and exact bytes of every scope file and built-in profile. Any change
 * is a miss. Kept apart from the cache so `cordon run` can compute it without
 * loading the policy compiler.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stateDir } from '../audit/paths.js';
import { mandatoryEntries } from './mandatory.js';
import { BUILTIN_PROFILES, PROFILE_DIR, resolveHome, scopeFiles, type LoadOptions } from './scopes.js';

/** Bumped when the meaning of cached data changes. */
export const CACHE_FORMAT = 1;

function cordonVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    return '?';
  }
}

/**
 * Which build of cordon is running, so a rebuilt cordon never reuses entries
 * of another build: the bundles' shared build id (both `cordon run` bundles
 * must agree), else the size and modification time of this file.
 */
function codeIdentity(): string {
  try {
    return `build:${readFileSync(new URL('./build-id', import.meta.url), 'utf8').trim()}`;
  } catch {
    // not a bundle
  }
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
  h.update(JSON.stringify({ format: CACHE_FORMAT, version: cordonVersion(), code: codeIdentity(), workspace: path.resolve(options.workspace), home: resolveHome(options), profile: options.profile ?? null }));
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

/** Where the compiled policy of `key` is cached (cordon's state directory). */
export function policyCacheFile(key: string): string {
  return path.join(stateDir(), 'cache', `policy-${key}.json`);
}
