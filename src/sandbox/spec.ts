/**
 * The sandbox specification: plain, serialisable data describing what one
 * sandboxed run may see. The policy compiler produces it; `buildBwrapArgs`
 * turns it into a bubblewrap argv; `runSandboxed` executes it.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { protectedNames } from '../policy/mandatory.js';

const absPath = z
  .string()
  .min(1)
  .refine((p) => isAbsolute(p) && !p.includes('\0'), { message: 'must be an absolute path without NUL' });

/** Network modes. A discriminated union so later issues can add `{ mode: 'proxy', ... }`. */
export const NetworkSpecSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('none').describe('New network namespace with loopback only; no route anywhere.'),
  }),
]);
export type NetworkSpec = z.infer<typeof NetworkSpecSchema>;

export const SandboxSpecSchema = z
  .strictObject({
    workspace: absPath.describe('Absolute directory bound read-write; the agent works here.'),
    readOnly: z.array(absPath).describe('Absolute paths bound read-only when they exist (system dirs, runtime prefix).'),
    readWrite: z.array(absPath).describe('Extra absolute paths bound read-write when they exist.'),
    hidden: z
      .array(absPath)
      .describe('Absolute paths made invisible even inside a bound dir: files become /dev/null, dirs an empty read-only tmpfs.'),
    protectedNames: z
      .array(z.string().min(1))
      .describe('Relative names (e.g. `.git/hooks`, `.envrc`) read-only at every depth of the workspace and not creatable.'),
    env: z.record(z.string(), z.string()).describe('The final environment of the command, already scrubbed.'),
    network: NetworkSpecSchema.describe('Network exposure of the sandbox.'),
    cwd: absPath.describe('Working directory of the command; must be inside the workspace.'),
  })
  .superRefine((s, ctx) => {
    const ws = resolve(s.workspace);
    const cwd = resolve(s.cwd);
    if (cwd !== ws && !cwd.startsWith(ws + '/')) {
      ctx.addIssue({ code: 'custom', path: ['cwd'], message: 'cwd must be inside the workspace' });
    }
    for (const [i, n] of s.protectedNames.entries()) {
      if (isAbsolute(n) || n.split('/').some((seg) => seg === '..' || seg === '.' || seg === '')) {
        ctx.addIssue({ code: 'custom', path: ['protectedNames', i], message: 'must be a relative name without `.`/`..`' });
      }
    }
  });
export type SandboxSpec = z.infer<typeof SandboxSpecSchema>;

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

/** Validate untrusted input into a spec; throws a zod error naming the field. */
export function parseSandboxSpec(input: unknown): SandboxSpec {
  return SandboxSpecSchema.parse(input);
}
