/**
 * Directory listings for the walks of the workspace made before a run starts
 * (the denied-file walk of realizePlan and the protected-path scan): with one
 * memo for both, each directory is read once instead of twice. The scan after
 * the run reads afresh.
 */
import { type Dirent, readdirSync } from 'node:fs';

/** Lists a directory with entry types; throws as readdirSync does. */
export type ListDir = (dir: string) => Dirent[];

export const readDirEntries: ListDir = (dir) => readdirSync(dir, { withFileTypes: true });

/** A ListDir that reads each directory once (failures are not remembered). */
export function memoListing(): ListDir {
  const seen = new Map<string, Dirent[]>();
  return (dir) => {
    let entries = seen.get(dir);
    if (entries === undefined) {
      entries = readDirEntries(dir);
      seen.set(dir, entries);
    }
    return entries;
  };
}
