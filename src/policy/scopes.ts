/**
 * Where each scope's policy file is, without reading or parsing anything.
 * Shared by the loader and the compiled-policy cache.
 */
import path from 'node:path';
import { homeDir } from '../host-dirs.js';
import type { ScopeName } from './types.js';

/** The directory of the built-in profiles (`profiles/` of the package; the same relative path from src/policy, dist/policy and dist/bin). */
export const PROFILE_DIR = path.join(import.meta.dirname, '../../profiles');
export const BUILTIN_PROFILES: readonly string[] = ['default', 'none'];

export interface LoadOptions {
  readonly workspace: string;
  readonly home?: string;
  /** Default `/etc/cordon/policy.yaml` (or `$CORDON_MANAGED_POLICY`); `null` skips the scope. */
  readonly managedFile?: string | null;
  /** Default `$XDG_CONFIG_HOME/cordon/policy.yaml`; `null` skips the scope. */
  readonly userFile?: string | null;
  /** Default `<workspace>/cordon.yaml`; `null` skips the scope. */
  readonly projectFile?: string | null;
  /** `--policy` files: each must exist. */
  readonly files?: readonly string[];
  /** `--profile`: a built-in profile added to those the files extend. */
  readonly profile?: string;
}

export interface ScopeFile {
  readonly scope: ScopeName;
  readonly file: string;
  /** A missing optional scope file is skipped; a missing `--policy` file is an error. */
  readonly required: boolean;
}

export function resolveHome(options: LoadOptions): string {
  return path.resolve(options.home ?? homeDir());
}

/** The policy files of every scope, strongest first. */
export function scopeFiles(options: LoadOptions): ScopeFile[] {
  const home = resolveHome(options);
  const workspace = path.resolve(options.workspace);
  const out: ScopeFile[] = [];
  const add = (scope: ScopeName, given: string | null | undefined, fallback: string): void => {
    if (given === null) return;
    out.push({ scope, file: given ?? fallback, required: given !== undefined });
  };
  add('managed', options.managedFile, process.env.CORDON_MANAGED_POLICY ?? '/etc/cordon/policy.yaml');
  add('user', options.userFile, path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'cordon', 'policy.yaml'));
  add('project', options.projectFile, path.join(workspace, 'cordon.yaml'));
  // A --policy file that is also a scope's file (`cordon policy check cordon.yaml`) is read once, in its scope.
  for (const file of options.files ?? []) {
    const i = out.findIndex((f) => path.resolve(f.file) === path.resolve(file));
    const earlier = out[i];
    if (earlier === undefined) out.push({ scope: 'cli', file, required: true });
    else out[i] = { ...earlier, required: true };
  }
  return out;
}
