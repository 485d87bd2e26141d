/**
 * Sandbox plans cached next to the compiled policies, under the same key (a
 * hash of every policy input and of cordon's own build), so `cordon run`
 * starts without the policy compiler when nothing changed. The directory is
 * cordon's state directory, a mandatory write protection (an agent cannot
 * plant a plan); a missing, unreadable or malformed entry is a miss.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stateDir } from '../audit/paths.js';
import { isSandboxPlan, type SandboxPlan } from './plan.js';

const FORMAT = 3;
const MAX_ENTRIES = 64;

function planFile(key: string, dir: string): string {
  return path.join(dir, `plan-${key}.json`);
}

export function planCacheDir(): string {
  return path.join(stateDir(), 'cache');
}

export function readPlan(key: string, dir: string = planCacheDir()): SandboxPlan | null {
  try {
    const stored = JSON.parse(readFileSync(planFile(key, dir), 'utf8')) as { format?: unknown; key?: unknown; plan?: unknown };
    if (stored.format !== FORMAT || stored.key !== key || !isSandboxPlan(stored.plan)) return null;
    return stored.plan;
  } catch {
    return null;
  }
}

export function writePlan(key: string, plan: SandboxPlan, dir: string = planCacheDir()): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = planFile(key, dir);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ format: FORMAT, key, plan }), { mode: 0o600 });
    renameSync(tmp, file);
    const entries = readdirSync(dir).filter((n) => n.startsWith('plan-') && n.endsWith('.json'));
    if (entries.length > MAX_ENTRIES) for (const n of entries) if (path.join(dir, n) !== file) rmSync(path.join(dir, n), { force: true });
  } catch {
    // A cache that cannot be written only costs time.
  }
}
