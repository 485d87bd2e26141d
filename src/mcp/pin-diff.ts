/** The diff shown for a held-back tool or manifest: pretty canonical JSON, line by line. */
import { lineDiff } from './diff.js';
import { prettyCanonical } from './tool-hash.js';

export function diffDefinitions(before: unknown, after: unknown): string {
  const a = before === undefined ? '' : prettyCanonical(before);
  const b = prettyCanonical(after);
  if (a === '') return b.split('\n').map((l) => `+ ${l}`).join('\n');
  return lineDiff(a, b);
}
