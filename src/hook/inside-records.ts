/**
 * Decisions the hook made inside a `cordon run` sandbox. There the hook's log
 * lands in the sandbox's private state directory, which is deleted at exit;
 * the supervisor reads it just before and records each hook decision in the
 * session's own log, marked as reported from inside the sandbox: the agent
 * could have written that file, so it is evidence of what the hook said, not
 * a decision cordon made. Bounded, regular files only (a planted symlink is
 * never followed), hook records only.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import type { DecisionEvent } from '../audit/record.js';
import { checkRecord } from '../audit/record-check.js';

export const INSIDE_LIMITS = { files: 16, bytesPerFile: 1024 * 1024, records: 1000 } as const;

function readBounded(file: string, max: number): string | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const buf = Buffer.alloc(max);
    let n = 0;
    for (let r = 1; r > 0 && n < max; n += r) r = readSync(fd, buf, n, max - n, null);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The hook decisions found in `stateDir` (the sandbox's `$XDG_STATE_HOME/cordon`), as events for the session log. */
export function insideHookDecisions(stateDir: string): DecisionEvent[] {
  let names: string[];
  try {
    names = readdirSync(stateDir).filter((n) => n.endsWith('.jsonl')).sort().slice(0, INSIDE_LIMITS.files);
  } catch {
    return [];
  }
  const out: DecisionEvent[] = [];
  for (const name of names) {
    const text = readBounded(path.join(stateDir, name), INSIDE_LIMITS.bytesPerFile);
    if (text === null) continue;
    for (const line of text.split('\n')) {
      if (out.length >= INSIDE_LIMITS.records) return out;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      const c = checkRecord(parsed);
      if (!c.ok || c.value.boundary !== 'hook') continue;
      const r = c.value;
      out.push({
        boundary: 'hook',
        subject: r.subject,
        decision: r.decision,
        rule: r.rule,
        reason: `reported by the hook inside the sandbox (not verified by cordon): ${r.reason}`,
      });
    }
  }
  return out;
}
