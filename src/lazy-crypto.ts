/**
 * node:crypto, loaded on first use. Loading it costs several milliseconds at
 * start-up, and the common `cordon run` (a cached plan, one decision record)
 * needs no hash at all: callers on that path use these helpers instead of a
 * static import.
 */
import type * as NodeCrypto from 'node:crypto';

let loaded: typeof NodeCrypto | undefined;

export function nodeCrypto(): typeof NodeCrypto {
  loaded ??= process.getBuiltinModule('node:crypto');
  return loaded;
}

export function sha256Hex(data: Buffer | string): string {
  const c = nodeCrypto();
  // The one-shot hash (Node 20.12+) builds no Hash object: a short input (an audit line) hashes in about a third of the time.
  return typeof c.hash === 'function' ? c.hash('sha256', data, 'hex') : c.createHash('sha256').update(data).digest('hex');
}
