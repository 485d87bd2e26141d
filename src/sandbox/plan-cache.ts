/**
 * Sandbox plans cached next to the compiled policies, so `cordon run` starts
 * without the policy compiler (and without hashing) when nothing changed. An
 * entry holds the whole key material (every policy input and cordon's build,
 * see policyKeyMaterial) and is used only when it is byte for byte the same;
 * its file name is a fast hash of it. The directory is
 * cordon's state directory, a mandatory write protection (an agent cannot
 * plant a plan); a missing, unreadable or malformed entry is a miss.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stateDir } from '../audit/paths.js';
import { fastNameHash } from '../policy/cache-key.js';
import { isSandboxPlan, type SandboxPlan } from './plan.js';

const FORMAT = 6;
const MAX_ENTRIES = 64;

function planFile(material: Buffer, dir: string): string {
  return path.join(dir, `plan-${fastNameHash(material)}.json`);
}

export function planCacheDir(): string {
  return path.join(stateDir(), 'cache');
}

/** A cached plan and the SHA-256 policy key it was made under (the compiled policy's cache key). */
export interface PlanEntry {
  readonly policyKey: string;
  readonly plan: SandboxPlan;
}

export function readPlan(material: Buffer, dir: string = planCacheDir()): PlanEntry | null {
  try {
    const stored = JSON.parse(readFileSync(planFile(material, dir), 'utf8')) as { format?: unknown; material?: unknown; policyKey?: unknown; plan?: unknown };
    if (stored.format !== FORMAT || typeof stored.material !== 'string' || !Buffer.from(stored.material, 'base64').equals(material)) return null;
    if (typeof stored.policyKey !== 'string' || !/^[0-9a-f]{64}$/.test(stored.policyKey) || !isSandboxPlan(stored.plan)) return null;
    return { policyKey: stored.policyKey, plan: stored.plan };
  } catch {
    return null;
  }
}

export function writePlan(material: Buffer, policyKey: string, plan: SandboxPlan, dir: string = planCacheDir()): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = planFile(material, dir);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ format: FORMAT, material: material.toString('base64'), policyKey, plan }), { mode: 0o600 });
    renameSync(tmp, file);
    const entries = readdirSync(dir).filter((n) => n.startsWith('plan-') && n.endsWith('.json'));
    if (entries.length > MAX_ENTRIES) for (const n of entries) if (path.join(dir, n) !== file) rmSync(path.join(dir, n), { force: true });
  } catch {
    // A cache that cannot be written only costs time.
  }
}
