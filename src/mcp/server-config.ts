/**
 * Resolves how one server is run from the policy's `mcp` section and the
 * command line: its name, configured environment, injection action, first-use
 * behaviour and sandbox spec. The sandbox comes from the server's own policy
 * file (`mcp.servers.<name>.policy`) or the `default` profile, never from the
 * agent's allow rules, and has no network yet (see src/mcp/README.md).
 */
import path from 'node:path';
import { CordonError } from '../errors.js';
import { loadPolicyCached } from '../policy/cache.js';
import { PolicyEngine } from '../policy/engine.js';
import type { LoadedPolicy } from '../policy/load.js';
import { specFromPolicy } from '../sandbox/from-policy.js';
import type { SandboxSpec } from '../sandbox/spec.js';
import type { InjectionAction } from './inbound.js';
import type { FirstUse } from './pin-check.js';

export interface ServerConfig {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  readonly injection: InjectionAction;
  readonly firstUse: FirstUse;
  readonly sandbox: SandboxSpec | null;
}

const LAUNCHERS = new Set(['node', 'npx', 'uvx', 'python', 'python3', 'bunx', 'deno', 'pnpm', 'yarn', 'npm', 'docker']);

/** A server name from its command: `npx -y @scope/server-foo` → `server-foo`. */
export function nameFromCommand(argv: readonly string[]): string {
  const base = (s: string): string => path.basename(s).replace(/\.(?:m?js|ts|py)$/, '').replace(/@[^/]*$/, '');
  let pick = argv[0] ?? 'server';
  if (LAUNCHERS.has(base(pick))) pick = argv.slice(1).find((a) => !a.startsWith('-') && a !== 'exec' && a !== 'run' && a !== 'dlx') ?? pick;
  const name = base(pick.replace(/@[\d^~]/, '')).replace(/[^A-Za-z0-9_-]/g, '-').replace(/^[-_]+|[-_]+$/g, '').replace(/__+/g, '_');
  return name === '' ? 'server' : name.slice(0, 64);
}

export interface ResolveOptions {
  readonly name?: string;
  readonly sandbox?: boolean;
  readonly injection?: InjectionAction;
  readonly firstUse?: FirstUse;
  readonly cwd: string;
}

export async function resolveServer(loaded: LoadedPolicy, argv: readonly string[], o: ResolveOptions): Promise<ServerConfig> {
  const name = o.name ?? nameFromCommand(argv);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name) || name.includes('__')) {
    throw new CordonError('CORDON_USAGE', `server name ${JSON.stringify(name)} is not valid: use letters, digits, '-' and single '_' (rules write mcp__${name}__tool)`);
  }
  const mcp = loaded.settings.mcp;
  const conf = mcp?.servers?.[name];
  const useSandbox = o.sandbox ?? conf?.sandbox ?? true;
  let sandbox: SandboxSpec | null = null;
  if (useSandbox) {
    const ws = loaded.context.workspace;
    const policyFile = conf?.policy === undefined ? undefined : path.resolve(ws, conf.policy);
    const own = await loadPolicyCached({ workspace: ws, files: policyFile === undefined ? [] : [policyFile], projectFile: null, userFile: null });
    const spec = specFromPolicy(own, new PolicyEngine(own.matchers, own.context), { cwd: o.cwd, env: {} }).spec;
    sandbox = { ...spec, network: { mode: 'none' } };
  }
  return {
    name,
    env: conf?.env ?? {},
    injection: o.injection ?? conf?.injection ?? mcp?.injection ?? 'block',
    firstUse: o.firstUse ?? mcp?.first_use ?? 'pin',
    sandbox,
  };
}
