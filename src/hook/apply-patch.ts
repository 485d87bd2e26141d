/**
 * The files a Codex `apply_patch` patch touches. The format is line based:
 * `*** Add File: p`, `*** Update File: p`, `*** Delete File: p`, and
 * `*** Move to: p` after an update. A patch that names no file cannot be
 * accounted for and is refused.
 */
import { CordonError } from '../errors.js';

const FILE_LINE = /^\*\*\* (?:Add File|Update File|Delete File|Move to): (.*)$/;

export function patchedFiles(patch: string): string[] {
  const files: string[] = [];
  for (const raw of patch.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = FILE_LINE.exec(line);
    const file = m?.[1]?.trim();
    if (file === undefined) continue;
    if (file === '') throw new CordonError('CORDON_USAGE', 'apply_patch names a file with an empty path');
    if (!files.includes(file)) files.push(file);
  }
  if (files.length === 0) throw new CordonError('CORDON_USAGE', 'apply_patch input names no file (no "*** Add/Update/Delete File:" line); refusing it');
  return files;
}
