/**
 * The key of cached compiled policies and sandbox plans: a hash of cordon's
 * version and build, the load options, the built-in mandatory list, and the
 * path and exact bytes of every scope file and built-in profile. Any change
 * is a miss. Kept apart from the cache so `cordon run` can compute it without
 * loading the policy compiler.
 */
import { readFileSync, statSync } from 'node:fs';
import { readPolicyBytes } from './read-file.js';
import path from 'node:path';
import { stateDir } from '../audit/paths.js';
import { sha256Hex } from '../lazy-crypto.js';
import { mandatoryEntries } from './mandatory.js';
import { BUILTIN_PROFILES, PROFILE_DIR, resolveHome, scopeFiles, type LoadOptions } from './scopes.js';

/** Bumped when the meaning of cached data changes. */
export const CACHE_FORMAT = 1;

function cordonVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(import.meta.dirname, '../../package.json'), 'utf8')) as { version?: string }).version ?? '?';
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
    return `build:${readFileSync(path.join(import.meta.dirname, 'build-id'), 'utf8').trim()}`;
  } catch {
    // not a bundle
  }
  try {
    const st = statSync(import.meta.filename);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return '?';
  }
}

/**
 * Every input of the effective policy, as bytes: cordon's version and build,
 * the load options, the mandatory list, and the path and exact bytes of every
 * scope file and built-in profile. Null when a file cannot be read (the full
 * loader then reports it). Caches compare it whole, so a cache file's name
 * may come from a fast, non-cryptographic hash of it.
 */
export function policyKeyMaterial(options: LoadOptions): Buffer | null {
  const parts: Buffer[] = [];
  const text = (s: string): void => {
    parts.push(Buffer.from(s, 'utf8'));
  };
  const code = codeIdentity();
  // A bundle's build id names its code, the mandatory list and version included (a new build, a new id); otherwise they are read.
  const built = code.startsWith('build:');
  text(JSON.stringify({ format: CACHE_FORMAT, version: built ? null : cordonVersion(), code, workspace: path.resolve(options.workspace), home: resolveHome(options), profile: options.profile ?? null }));
  for (const { scope, file } of scopeFiles(options)) {
    let bytes: Buffer | null;
    try {
      // Bounded and non-blocking like the loader: a FIFO or /dev/zero never hangs the key; any refusal means no key (the load reports it).
      bytes = readPolicyBytes(file, false);
    } catch {
      return null;
    }
    text(`\0${scope}\0${file}\0${bytes === null ? '-' : `${bytes.length}\0`}`);
    if (bytes !== null) parts.push(bytes);
  }
  // The built-in mandatory list is part of every policy: a changed list must never be served stale.
  if (!built) text(JSON.stringify(mandatoryEntries()));
  for (const name of BUILTIN_PROFILES) parts.push(readFileSync(path.join(PROFILE_DIR, `${name}.yaml`)));
  return Buffer.concat(parts);
}

/** The cache key (SHA-256 of the key material), or null when a file cannot be read (the full loader then reports it). */
export function policyCacheKey(options: LoadOptions): string | null {
  const m = policyKeyMaterial(options);
  return m === null ? null : sha256Hex(m);
}

/**
 * A fast 53-bit hash (cyrb53 over 32-bit words) of key material as hex, for file
 * names only: whoever reads the file compares the full material, so a
 * collision costs a cache miss, never a wrong entry.
 */
export function fastNameHash(all: Buffer): string {
  // The material starts with what varies (cordon's build, the options, the scope files); the mandatory
  // list and the built-in profiles after them change only with cordon's build. The first 8 KiB and the
  // length name the file.
  const bytes = all.subarray(0, 8192);
  let h1 = 0xdeadbeef ^ all.length;
  let h2 = 0x41c6ce57 ^ all.length;
  const words = bytes.length >>> 2;
  // A typed-array view, not readInt32LE: this runs once per `cordon run`, before any JIT, where 2048 calls cost milliseconds.
  const view = bytes.byteOffset % 4 === 0
    ? new Int32Array(bytes.buffer, bytes.byteOffset, words)
    : new Int32Array(Uint8Array.prototype.slice.call(bytes, 0, words << 2).buffer);
  const le = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  for (let i = 0; i < words; i++) {
    const w = le ? (view[i] ?? 0) : bytes.readInt32LE(i << 2);
    h1 = Math.imul(h1 ^ w, 2654435761);
    h2 = Math.imul(h2 ^ w, 1597334677);
  }
  for (let i = words << 2; i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    h1 = Math.imul(h1 ^ b, 2654435761);
    h2 = Math.imul(h2 ^ b, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

/** Where the compiled policy of `key` is cached (cordon's state directory). */
export function policyCacheFile(key: string): string {
  return path.join(stateDir(), 'cache', `policy-${key}.json`);
}
