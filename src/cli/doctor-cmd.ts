/**
 * `cordon doctor`: host checks with the exact fix for each problem, then the
 * trifecta analysis of the effective policy (exit 0 ok, 1 problems; an
 * invalid policy is a problem too).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { analyseTrifecta, formatTrifecta } from '../approval/trifecta.js';
import { sanitizeForDisplay } from '../audit/redact.js';
import { isCordonError } from '../errors.js';
import { Policy } from '../policy/policy.js';
import { zeroCopyStatus } from '../egress/zero-copy.js';
import { checkHost } from '../sandbox/doctor.js';
import { loadOptions, type PolicyCommonOptions } from './policy-options.js';

export async function doctorCommand(opts: PolicyCommonOptions = {}): Promise<number> {
  const results = await checkHost();
  for (const r of results) {
    process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}\n`);
    if (!r.ok && r.fix !== undefined) process.stdout.write(`     fix: ${r.fix}\n`);
  }
  // Optional: without the addon the egress proxy relays large bodies and tunnels in JavaScript (slower), so not a problem.
  const zc = zeroCopyStatus();
  if (zc.available) process.stdout.write(`ok   zero-copy relay: splice(2) addon loaded (${zc.path})\n`);
  else {
    process.stdout.write(`note zero-copy relay: not available (${zc.reason}); the egress proxy relays in JavaScript (slower)\n`);
    if (process.env.CORDON_NO_SPLICE !== '1') process.stdout.write('     fix: npm run build:native (needs python3, make and a C compiler)\n');
  }
  // Optional too: without native/front, bin/cordon starts `cordon run` on node directly: the early sandbox waits for
  // node to boot, and the run returns a few ms later.
  const front = path.join(import.meta.dirname, '..', '..', 'native', 'front', 'build', 'cordon-front');
  if (existsSync(front)) process.stdout.write(`ok   run front: built (${front})\n`);
  else {
    process.stdout.write('note run front: not built; `cordon run` starts its sandbox only once Node has booted and returns its status after Node has torn its process down (a few to ten milliseconds per run)\n');
    process.stdout.write('     fix: npm run build:native (needs a C compiler: apt-get install -y gcc)\n');
  }
  let bad = results.filter((r) => !r.ok).length;
  process.stdout.write(bad === 0 ? 'cordon doctor: the host can run cordon sandboxes\n' : `cordon doctor: ${bad} problem${bad === 1 ? '' : 's'}; apply the fixes above\n`);
  process.stdout.write('\ntrifecta analysis of the effective policy (legs a session holds without asking a person):\n');
  try {
    const policy = Policy.load(loadOptions(opts));
    process.stdout.write(formatTrifecta(analyseTrifecta(policy.loaded), sanitizeForDisplay));
  } catch (e) {
    bad += 1;
    process.stdout.write(`FAIL the effective policy could not be loaded: ${isCordonError(e) ? e.message : String(e)}\n`);
  }
  return bad === 0 ? 0 : 1;
}
