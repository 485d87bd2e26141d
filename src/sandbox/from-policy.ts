/**
 * Compiles the effective policy's `Read`/`Edit` rules into a SandboxSpec:
 * the workspace read-write, the system's program directories read-only (each
 * checked against the policy), literal paths of other allow rules bound, and
 * denied paths inside anything bound made invisible. The two steps (what the
 * policy decides, what exists now) live in plan.ts.
 */
import type { LoadedPolicy } from '../policy/load.js';
import type { PolicyEngine } from '../policy/engine.js';
import { type CompiledSpec, planFromPolicy, type RealizeOptions, realizePlan } from './plan.js';

export { type CompiledSpec, NO_DNS_FILES, policyAllowsNetwork, SANDBOX_HTTP_PROXY_PORT, SANDBOX_SOCKS_PORT } from './plan.js';

export type SpecOptions = RealizeOptions;

export function specFromPolicy(policy: LoadedPolicy, engine: PolicyEngine, opts: SpecOptions): CompiledSpec {
  return realizePlan(planFromPolicy(policy, engine), opts);
}
