/**
 * Default contents of a sandbox spec, as plain data with no schema library, so
 * the start-up path of `cordon run` stays small. `spec.ts` re-exports them.
 */
import { dirname } from 'node:path';
import { protectedNames } from '../policy/mandatory.js';

/**
 * Agent configuration and persistence files, from the policy's mandatory
 * protections (one list, kept in src/policy/mandatory.ts). Each is read-only
 * at every depth of the workspace; creating one during a run is refused.
 */
export const DEFAULT_PROTECTED_NAMES: readonly string[] = protectedNames();

/** System directories a program needs, bound read-only when present. */
export const SYSTEM_READ_ONLY: readonly string[] = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * The `/etc` files programs need: users and groups (no shadow), name service
 * configuration, TLS roots, the dynamic loader cache, alternatives, time zone.
 */
export const ETC_READ_ONLY: readonly string[] = [
  '/etc/passwd',
  '/etc/group',
  '/etc/hosts',
  '/etc/host.conf',
  '/etc/nsswitch.conf',
  '/etc/services',
  '/etc/protocols',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/localtime',
  '/etc/timezone',
  '/etc/os-release',
  '/etc/lsb-release',
  '/etc/debian_version',
  '/etc/mime.types',
  '/etc/inputrc',
  '/etc/terminfo',
  '/etc/gitconfig',
  '/etc/python3',
  '/etc/mailcap',
];

/**
 * Read-only paths for the default profile: system dirs, the `/etc` subset and
 * the prefix of the running node binary when it lives elsewhere (nvm, volta).
 */
export function defaultReadOnly(execPath: string = process.execPath): string[] {
  const out = [...SYSTEM_READ_ONLY, ...ETC_READ_ONLY];
  const prefix = dirname(dirname(execPath));
  if (!SYSTEM_READ_ONLY.some((d) => prefix === d || prefix.startsWith(d + '/'))) out.push(prefix);
  return out;
}

