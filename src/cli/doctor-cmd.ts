/** `cordon doctor`: host checks with the exact fix for each problem (exit 0 ok, 1 problems). */
import { checkHost } from '../sandbox/doctor.js';

export async function doctorCommand(): Promise<number> {
  const results = await checkHost();
  for (const r of results) {
    process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}\n`);
    if (!r.ok && r.fix !== undefined) process.stdout.write(`     fix: ${r.fix}\n`);
  }
  const bad = results.filter((r) => !r.ok).length;
  process.stdout.write(bad === 0 ? 'cordon doctor: the host can run cordon sandboxes\n' : `cordon doctor: ${bad} problem${bad === 1 ? '' : 's'}; apply the fixes above\n`);
  process.stdout.write('note: the trifecta analysis of the effective policy is not built yet (approvals issue)\n');
  return bad === 0 ? 0 : 1;
}
