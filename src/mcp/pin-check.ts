/**
 * Compares what a server lists against its pins (pure: the caller saves the
 * updated record). A tool whose definition hash equals its pin is shown; a
 * changed, new (or renamed) tool is held back with a diff until a person
 * approves it; on a server's very first use, tools are pinned as seen when
 * `firstUse` is `pin` (trust on first use) or held when it is `hold`.
 * A tool the scanner flagged is never pinned.
 */
import { diffDefinitions } from './pin-diff.js';
import type { PendingTool, PinFile } from './pin-store.js';
import { type Manifest, manifestHash, toolHash } from './tool-hash.js';

export type FirstUse = 'pin' | 'hold';

export type ToolStatus = 'pinned' | 'first-use' | 'new' | 'changed' | 'flagged';

export interface ToolVerdict {
  readonly name: string;
  readonly status: ToolStatus;
  readonly visible: boolean;
  readonly hash: string;
  /** One sentence for audit records and the held-back message. */
  readonly reason: string;
  /** For new and changed tools: a line diff against the pinned definition. */
  readonly diff: string;
}

export interface CheckInput {
  /** The stored record; `fresh` is true when it was just created (the server was never seen). */
  readonly record: PinFile;
  readonly fresh: boolean;
  readonly tools: readonly { readonly name: string; readonly definition: unknown }[];
  readonly firstUse: FirstUse;
  /** Tools the scanner or the shadowing check refuses, with the reason. */
  readonly flagged: ReadonlyMap<string, string>;
  readonly now: string;
}

export interface CheckOutput {
  readonly record: PinFile;
  readonly verdicts: readonly ToolVerdict[];
  /** Whether the record changed and must be saved. */
  readonly dirty: boolean;
}

export function checkTools(input: CheckInput): CheckOutput {
  const tools = { ...input.record.tools };
  const pending: Record<string, PendingTool> = { ...input.record.pending };
  let dirty = false;
  const verdicts: ToolVerdict[] = [];
  const hold = (name: string, status: PendingTool['status'], hash: string, definition: unknown, reason: string, diff: string): void => {
    const prev = pending[name];
    if (prev?.hash !== hash || prev.status !== status) {
      pending[name] = { hash, definition, seenAt: input.now, status, reason, diff };
      dirty = true;
    }
    verdicts.push({ name, status, visible: false, hash, reason, diff });
  };
  for (const { name, definition } of input.tools) {
    const hash = toolHash(definition);
    const pin = tools[name];
    const flag = input.flagged.get(name);
    if (flag !== undefined) {
      hold(name, 'flagged', hash, definition, flag, diffDefinitions(pin?.definition, definition));
    } else if (pin !== undefined && pin.hash === hash) {
      if (pending[name] !== undefined) {
        delete pending[name];
        dirty = true;
      }
      verdicts.push({ name, status: 'pinned', visible: true, hash, reason: 'the definition matches its pin', diff: '' });
    } else if (pin !== undefined) {
      hold(name, 'changed', hash, definition, `the definition of ${name} changed since it was pinned (a rug pull is possible); a person must approve it`, diffDefinitions(pin.definition, definition));
    } else if (input.fresh && input.firstUse === 'pin') {
      tools[name] = { hash, definition, approvedAt: input.now, how: 'first-use' };
      dirty = true;
      verdicts.push({ name, status: 'first-use', visible: true, hash, reason: 'first use of this server: the tool was pinned as seen', diff: '' });
    } else {
      hold(name, 'new', hash, definition, `${name} is a new (or renamed) tool that was never approved; a person must approve it`, diffDefinitions(undefined, definition));
    }
  }
  return { record: { ...input.record, tools, pending }, verdicts, dirty: dirty || input.fresh };
}

export interface ManifestVerdict {
  readonly record: PinFile;
  readonly status: 'pinned' | 'first-use' | 'changed';
  readonly diff: string;
  readonly dirty: boolean;
}

export function checkManifest(record: PinFile, manifest: Manifest, now: string): ManifestVerdict {
  const hash = manifestHash(manifest);
  if (record.manifest === null) return { record: { ...record, manifest: { hash, value: manifest } }, status: 'first-use', diff: '', dirty: true };
  if (record.manifest.hash === hash) {
    return record.pendingManifest === null
      ? { record, status: 'pinned', diff: '', dirty: false }
      : { record: { ...record, pendingManifest: null }, status: 'pinned', diff: '', dirty: true };
  }
  const diff = diffDefinitions(record.manifest.value, manifest);
  const dirty = record.pendingManifest?.hash !== hash;
  return { record: dirty ? { ...record, pendingManifest: { hash, value: manifest, diff, seenAt: now } } : record, status: 'changed', diff, dirty };
}
