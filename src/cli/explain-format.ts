/** Text and JSON renderings of a decision, as `policy explain` prints them. */
import { sanitizeForDisplay } from '../audit/redact.js';
import { describeOrigin } from '../policy/engine.js';
import type { Decision } from '../policy/types.js';

export function decisionToJson(d: Decision): object {
  return {
    subject: d.subject,
    decision: d.effect,
    mandatory: d.mandatory,
    reason: d.reason,
    rules: d.rules.map((r) => ({
      effect: r.effect,
      rule: r.text,
      scope: r.mandatory === true ? 'mandatory' : r.origin.scope,
      file: r.origin.file,
      line: r.origin.line,
      column: r.origin.column,
    })),
  };
}

export function decisionToText(d: Decision): string {
  const lines = [`${d.effect.toUpperCase().padEnd(5)} ${sanitizeForDisplay(d.subject)}`];
  if (d.rules.length === 0) lines.push('  rule:   none matched (default for this kind)');
  for (const r of d.rules) lines.push(`  rule:   ${sanitizeForDisplay(describeOrigin(r))}`);
  lines.push(`  why:    ${sanitizeForDisplay(d.reason)}`);
  if (d.mandatory) lines.push('  note:   mandatory protection: no approval and no lower scope can lift it');
  return lines.join('\n');
}
