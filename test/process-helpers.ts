/** Helpers for tests that watch real processes (Linux /proc). */
import { readFileSync } from 'node:fs';

/** Children of `pid` (/proc/<pid>/task/<pid>/children); empty when it is gone. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((s) => s !== '').map(Number);
  } catch {
    return [];
  }
}

/** Polls `check` every 20 ms until it holds or `ms` have passed; its last answer. */
export async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}
