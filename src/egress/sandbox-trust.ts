/**
 * The sandbox side of TLS inspection, run by the supervisor: a private
 * directory (0700, deleted after the run) bound read-only into the sandbox at
 * the same path, holding the CA bundle (system roots plus the session CA) and
 * the session CA alone, and the variables that make tools trust them. The
 * files are written once the proxy reported its CA, which is before the
 * command starts (the command waits for the proxy to serve its listeners).
 * Nothing outside the sandbox trusts the session CA.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CordonError } from '../errors.js';
import { tempDir } from '../host-dirs.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { SandboxSpec } from '../sandbox/spec.js';
import { trustEnvironment } from '../sandbox/proxy-env.js';

export interface SandboxTrust {
  readonly dir: string;
  readonly bundle: string;
  readonly caOnly: string;
  /** The spec with the directory bound read-only and the trust variables set. */
  apply(spec: SandboxSpec): SandboxSpec;
  /** Writes the bundle for the session CA the proxy reported. */
  install(caPem: string): Promise<void>;
  dispose(): void;
}

/** True when the policy leaves TLS inspection on (the default). */
export function inspectsTls(loaded: LoadedPolicy): boolean {
  return loaded.settings.egress?.tls?.inspect !== false;
}

/** A trust directory for one run, or undefined when the policy turns inspection off. */
export function prepareSandboxTrust(loaded: LoadedPolicy): SandboxTrust | undefined {
  if (!inspectsTls(loaded)) return undefined;
  const dir = mkdtempSync(path.join(tempDir(), 'cordon-trust-'));
  const bundle = path.join(dir, 'ca-bundle.pem');
  const caOnly = path.join(dir, 'session-ca.pem');
  // Removed after the run, and in any case when the supervisor exits (an error path cannot leave it behind).
  const dispose = (): void => {
    process.off('exit', dispose);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', dispose);
  return {
    dir,
    bundle,
    caOnly,
    apply: (spec) => ({ ...spec, readOnly: [...spec.readOnly, dir], env: { ...spec.env, ...trustEnvironment(bundle, caOnly) } }),
    install: async (caPem) => {
      if (!caPem.startsWith('-----BEGIN CERTIFICATE-----')) throw new CordonError('CORDON_EGRESS_PROXY', 'the egress proxy reported no session CA; nothing was run');
      const { systemCaBundle } = await import('./trust.js');
      writeFileSync(caOnly, caPem, { mode: 0o644 });
      writeFileSync(bundle, `${systemCaBundle()}${caPem}`, { mode: 0o644 });
    },
    dispose,
  };
}
