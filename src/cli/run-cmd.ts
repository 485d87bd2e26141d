/**
 * `cordon run`: load the policy (any problem is exit 125, never a fallback),
 * compile it into a sandbox, open the session's audit log, run the command
 * and report what was blocked.
 */
import path from 'node:path';
import { AuditWriter } from '../audit/writer.js';
import { newSessionId, stateDir } from '../audit/paths.js';
import { publishDecision } from '../audit/publish.js';
import { CordonError } from '../errors.js';
import { loadPolicyCached } from '../policy/cache.js';
import { PolicyEngine } from '../policy/engine.js';
import { specFromPolicy } from '../sandbox/from-policy.js';
import { runSandboxed } from '../sandbox/runner.js';
import type { Violation } from '../sandbox/protect-sweep.js';
import { loadOptions, type PolicyCommonOptions } from './policy-options.js';

export interface RunCommandOptions extends PolicyCommonOptions {
  readonly keepEnv?: string[];
}

function violationRecord(engine: PolicyEngine, v: Violation): void {
  const d = engine.decide({ kind: 'Edit', path: v.path });
  const rule = d.rules[0];
  publishDecision({
    boundary: 'sandbox',
    subject: `Edit(${v.path})`,
    decision: 'deny',
    rule: rule === undefined ? `sandbox ${v.kind}` : `deny ${rule.text} (${rule.mandatory === true ? 'mandatory' : rule.origin.scope})`,
    reason: `${v.detail} (${v.action}${v.quarantinedTo === undefined ? '' : ` to ${v.quarantinedTo}`})`,
    mandatory: rule?.mandatory === true,
  });
}

export async function runCommand(cmd: readonly string[], opts: RunCommandOptions): Promise<number> {
  if (cmd.length === 0) throw new CordonError('CORDON_USAGE', 'no command given; write cordon run -- CMD [ARGS...]');
  const loaded = await loadPolicyCached(loadOptions(opts));
  const engine = new PolicyEngine(loaded.matchers, loaded.context);
  const compiled = specFromPolicy(loaded, engine, {
    cwd: process.cwd(),
    env: process.env,
    ...(opts.keepEnv === undefined ? {} : { keepEnv: opts.keepEnv }),
  });
  // The spec comes from our own compiler (its output is validated against the schema in tests), so the hot path skips zod.
  const spec = compiled.spec;
  if (compiled.walkTruncated) {
    process.stderr.write('cordon: warning: the workspace is too large to search fully for denied files (such as .env); some may stay visible\n');
  }

  const session = newSessionId();
  const dir = loaded.settings.audit?.dir ?? stateDir();
  const writer = AuditWriter.open({ dir: path.resolve(dir), session });
  const unsubscribe = writer.subscribe();
  try {
    publishDecision({
      boundary: 'supervisor',
      subject: `Run(${cmd.join(' ')})`,
      decision: 'allow',
      rule: 'default',
      reason: `Sandbox started in ${spec.workspace}: ${spec.hidden.length} denied paths hidden, ${compiled.removedEnv.length} environment variables removed, no network.`,
    });
    const res = await runSandboxed(spec, cmd, { onViolation: (v) => violationRecord(engine, v) });
    if (res.error) process.stderr.write(`cordon: ${res.error.message}\n`);
    const blocked = writer.counts().deny;
    if (blocked > 0) {
      process.stderr.write(`cordon: ${blocked} action${blocked === 1 ? '' : 's'} blocked (cordon audit tail ${session})\n`);
    }
    return res.exitCode;
  } finally {
    unsubscribe();
    writer.close();
  }
}
