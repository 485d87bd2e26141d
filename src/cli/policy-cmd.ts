/** `cordon policy check` and `cordon policy explain`. */
import { formatProblem, isCordonError, PolicyError } from '../errors.js';
import { Policy } from '../policy/policy.js';
import { loadOptions, type PolicyCommonOptions } from './policy-options.js';
import { decisionToJson, decisionToText } from './explain-format.js';

export { loadOptions, type PolicyCommonOptions } from './policy-options.js';

/** 0 valid, 1 invalid. Files given are checked as `--policy` files on top of the usual scopes. */
export function policyCheck(files: readonly string[], o: PolicyCommonOptions): number {
  const opts = loadOptions({ ...o, policy: [...(o.policy ?? []), ...files] });
  try {
    const policy = Policy.load(opts);
    const l = policy.loaded;
    for (const w of l.warnings) process.stderr.write(`warning: ${formatProblem(w)}\n`);
    for (const s of l.sources) {
      const n = l.rules.filter((r) => r.origin.file === s.file).length;
      process.stdout.write(`ok  ${s.file} (${s.scope}${s.format === 'claude-settings' ? ', Claude Code settings' : ''}, ${n} rule${n === 1 ? '' : 's'})\n`);
    }
    const mandatory = l.rules.filter((r) => r.mandatory === true).length;
    process.stdout.write(`ok  profiles: ${l.profiles.join(', ') || 'none'}; ${mandatory} mandatory protections; ${l.rules.length} rules in effect${l.lockdown ? '; lockdown on' : ''}\n`);
    return 0;
  } catch (e) {
    if (e instanceof PolicyError) {
      for (const p of e.problems) process.stderr.write(`${formatProblem(p)}\n`);
      process.stderr.write(`cordon: policy invalid (${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}); fix the lines above\n`);
      return 1;
    }
    throw e;
  }
}

export async function policyExplain(subjects: readonly string[], o: PolicyCommonOptions & { json?: boolean }): Promise<number> {
  const policy = Policy.load(loadOptions(o));
  const results: object[] = [];
  let failed = false;
  for (const s of subjects) {
    try {
      const d = await policy.explain(s);
      if (o.json === true) results.push(decisionToJson(d));
      else process.stdout.write(`${decisionToText(d)}\n`);
    } catch (e) {
      if (!isCordonError(e)) throw e;
      failed = true;
      if (o.json === true) results.push({ subject: s, error: { code: e.code, message: e.message } });
      else process.stderr.write(`cordon: ${e.message}\n`);
    }
  }
  if (o.json === true) process.stdout.write(`${JSON.stringify(results.length === 1 && subjects.length === 1 ? results[0] : results, null, 2)}\n`);
  return failed ? 2 : 0;
}
