/**
 * tree-sitter-bash treats a backslash-newline between two characters of one
 * word as a word break (`cu\<newline>rl` parses as `cu rl`), while bash
 * removes it and reads one word (`curl`). Such joins are reported instead of
 * being trusted. Inside quotes, heredocs and comments the grammar reads the
 * text as data, so those places are skipped.
 */
import type { Node } from 'web-tree-sitter';

const DATA_NODES = new Set(['raw_string', 'string', 'string_content', 'ansi_c_string', 'heredoc_body', 'heredoc_content', 'comment']);

function insideData(node: Node | null): boolean {
  for (let n = node; n !== null; n = n.parent) if (DATA_NODES.has(n.type)) return true;
  return false;
}

/** Whether a line continuation joins two non-blank characters outside quoted text. */
export function hasHiddenJoin(root: Node, source: string): boolean {
  for (const m of source.matchAll(/(\\+)\n/g)) {
    const run = m[1] ?? '';
    // An even run is escaped backslashes followed by a real newline.
    if (run.length % 2 === 0) continue;
    const backslash = m.index + run.length - 1;
    const before = source.charAt(backslash - 1);
    const after = source.charAt(m.index + m[0].length);
    if (!/\S/.test(before) || !/\S/.test(after)) continue;
    if (!insideData(root.descendantForIndex(backslash, backslash + 1))) return true;
  }
  return false;
}
