/**
 * The sandbox specification: plain, serialisable data describing what one
 * sandboxed run may see. The policy compiler produces it; `buildBwrapArgs`
 * turns it into a bubblewrap argv; `runSandboxed` executes it.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

const absPath = z
  .string()
  .min(1)
  .refine((p) => isAbsolute(p) && !p.includes('\0'), { message: 'must be an absolute path without NUL' });

const port = z.number().int().min(1).max(65535);

/** Network modes. */
export const NetworkSpecSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('none').describe('New network namespace with loopback only; no route anywhere.'),
  }),
  z
    .strictObject({
      mode: z
        .literal('proxy')
        .describe('New network namespace with loopback only; proxy listeners on 127.0.0.1 inside it are served by the egress proxy outside. No DNS.'),
      httpPort: port.describe('Port of the HTTP/CONNECT proxy listener on 127.0.0.1 inside the sandbox (HTTP_PROXY, HTTPS_PROXY).'),
      socksPort: port.describe('Port of the SOCKS5 listener on 127.0.0.1 inside the sandbox (ALL_PROXY).'),
    })
    .refine((n) => n.httpPort !== n.socksPort, { message: 'httpPort and socksPort must differ' }),
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

export { DEFAULT_PROTECTED_NAMES, ETC_READ_ONLY, SYSTEM_READ_ONLY, defaultReadOnly } from './spec-defaults.js';

/** Validate untrusted input into a spec; throws a zod error naming the field. */
export function parseSandboxSpec(input: unknown): SandboxSpec {
  return SandboxSpecSchema.parse(input);
}
