/**
 * What `cordon mcp pins approve|revoke|list` do to a pin record (pure; the
 * command saves the result). Approval pins exactly the held-back definition a
 * person reviewed (by its hash), never whatever the server says next.
 */
import type { PinFile } from './pin-store.js';

export interface AdminResult {
  readonly record: PinFile;
  /** Tool names changed (plus `(manifest)` when the manifest was). */
  readonly changed: readonly string[];
  /** Names asked for that had nothing to approve or revoke. */
  readonly missing: readonly string[];
}

export function approvePending(record: PinFile, names: readonly string[] | null, now: string): AdminResult {
  const tools = { ...record.tools };
  const pending = { ...record.pending };
  const wanted = names ?? Object.keys(pending);
  const changed: string[] = [];
  const missing: string[] = [];
  for (const n of wanted) {
    const p = pending[n];
    if (p === undefined) {
      missing.push(n);
      continue;
    }
    tools[n] = { hash: p.hash, definition: p.definition, approvedAt: now, how: 'approved' };
    delete pending[n];
    changed.push(n);
  }
  let manifest = record.manifest;
  let pendingManifest = record.pendingManifest;
  if (names === null && pendingManifest !== null) {
    manifest = { hash: pendingManifest.hash, value: pendingManifest.value };
    pendingManifest = null;
    changed.push('(manifest)');
  }
  return { record: { ...record, tools, pending, manifest, pendingManifest }, changed, missing };
}

export function revokePins(record: PinFile, names: readonly string[] | null): AdminResult {
  const tools = { ...record.tools };
  const wanted = names ?? Object.keys(tools);
  const changed: string[] = [];
  const missing: string[] = [];
  for (const n of wanted) {
    if (tools[n] === undefined) missing.push(n);
    else {
      delete tools[n];
      changed.push(n);
    }
  }
  // The record stays (with fewer pins): a revoked server is not "first use" again.
  return { record: { ...record, tools }, changed, missing };
}

/** Human-readable listing of one record, with the diff of every held-back tool. */
export function describeRecord(r: PinFile): string {
  const launch = typeof r.launch === 'string' ? r.launch : JSON.stringify(r.launch);
  const lines = [`${r.server} (identity ${r.identity.slice(0, 16)}, launched as ${launch})`];
  for (const [name, t] of Object.entries(r.tools).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  pinned   ${name}  sha256 ${t.hash.slice(0, 16)}  ${t.how === 'first-use' ? 'first use' : 'approved'} ${t.approvedAt}`);
  }
  for (const [name, p] of Object.entries(r.pending).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  held     ${name}  (${p.status}) sha256 ${p.hash.slice(0, 16)}  seen ${p.seenAt}`, `           ${p.reason}`);
    for (const d of p.diff.split('\n')) lines.push(`           ${d}`);
  }
  if (r.pendingManifest !== null) {
    lines.push('  held     (manifest) changed since it was pinned:');
    for (const d of r.pendingManifest.diff.split('\n')) lines.push(`           ${d}`);
  }
  return lines.join('\n');
}
