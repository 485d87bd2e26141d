/** The policy options every command shares (`--policy`, `--profile`, `--workspace`), as load options. */
import path from 'node:path';
import type { LoadOptions } from '../policy/scopes.js';

export interface PolicyCommonOptions {
  readonly policy?: string[];
  readonly profile?: string;
  readonly workspace?: string;
}

export function loadOptions(o: PolicyCommonOptions): LoadOptions {
  return {
    workspace: path.resolve(o.workspace ?? process.cwd()),
    files: o.policy ?? [],
    ...(o.profile === undefined ? {} : { profile: o.profile }),
  };
}
