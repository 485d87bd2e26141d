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
  return nodeCrypto().createHash('sha256').update(data).digest('hex');
}
