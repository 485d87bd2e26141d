/**
 * The outbound argument scanners of a gateway, built in one place so that
 * `cordon mcp wrap`, `cordon mcp serve` and the benchmarks run the same list:
 * the injection scanner first, then the DLP engine (credential detectors and
 * the user's known secrets, from the policy's `dlp.known_secrets` sources
 * and the given environment), then any extra scanners. The DLP engine is
 * imported on first use (it is not needed to parse the command line).
 */
import type { LoadedPolicy } from '../policy/load.js';
import { injectionArgumentScanner, type ArgumentScanner } from './argument-scanner.js';
import type { InjectionScanner } from './injection.js';

/** The injection scanner followed by `rest` (the DLP scanner and extras): the order every gateway uses. */
export function gatewayArgumentScanners(injection: InjectionScanner, rest: readonly ArgumentScanner[]): readonly ArgumentScanner[] {
  return [injectionArgumentScanner(injection), ...rest];
}

/** DLP on outbound arguments, with the secrets found in `env` and the policy's known-secret files as fingerprints. */
export async function policyDlpScanner(loaded: LoadedPolicy, env: NodeJS.ProcessEnv): Promise<ArgumentScanner> {
  const [{ collectKnownSecrets }, { dlpArgumentScanner }] = await Promise.all([import('../dlp/known-sources.js'), import('./dlp-argument-scanner.js')]);
  const ks = loaded.settings.dlp?.known_secrets;
  const c = collectKnownSecrets({ env, ...(ks?.env ? { envGlobs: ks.env } : {}), ...(ks?.files ? { files: ks.files } : {}) });
  return dlpArgumentScanner(c.set.size === 0 ? undefined : c.set.matcher());
}

/** What the gateway does with an argument finding: `dlp.action: report` only records it. */
export function argumentActionFor(loaded: LoadedPolicy): 'block' | 'report' {
  return loaded.settings.dlp?.action === 'report' ? 'report' : 'block';
}

/** The list of `cordon mcp wrap`: injection, DLP, extras. */
export async function wrapArgumentScanners(loaded: LoadedPolicy, injection: InjectionScanner, env: NodeJS.ProcessEnv, extra: readonly ArgumentScanner[] = []): Promise<readonly ArgumentScanner[]> {
  return gatewayArgumentScanners(injection, [await policyDlpScanner(loaded, env), ...extra]);
}
