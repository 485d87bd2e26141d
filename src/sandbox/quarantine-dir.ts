/**
 * Where a run's quarantined entries go by default: a new directory under
 * `<state dir>/quarantine/` (cordon's state directory is not visible inside
 * the sandbox), named by date so a person finds them, and kept for 30 days:
 * older ones are removed when a new one is made. They used to accumulate in
 * the system temporary directory.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../audit/paths.js';

export const QUARANTINE_KEEP_MS = 30 * 24 * 3600 * 1000;

/** Removes quarantine directories of `root` older than `keepMs`; never fails (keeping costs only disk). */
export function pruneQuarantine(root: string, keepMs: number = QUARANTINE_KEEP_MS, now: number = Date.now()): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const n of names) {
    if (!/^\d{4}-\d{2}-\d{2}T[\d-]+Z-/.test(n)) continue; // only what newQuarantineDir made
    const p = join(root, n);
    try {
      if (now - statSync(p).mtimeMs > keepMs) rmSync(p, { recursive: true, force: true });
    } catch {
      // gone or unreadable: left as it is
    }
  }
}

/** A new private (0700) quarantine directory under `root` (default `<state dir>/quarantine`). */
export function newQuarantineDir(root: string = join(stateDir(), 'quarantine')): string {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  pruneQuarantine(root);
  return mkdtempSync(join(root, `${new Date().toISOString().replace(/[:.]/g, '-')}-`));
}
