/**
 * Recognises a shell started as a command (`bash -c '...'`, `sh`, `zsh -s`)
 * and says where its script comes from: a `-c` string, stdin, or a file.
 */
import type { Word } from './words.js';
import { basename } from './wrappers.js';

const SHELLS = new Set(['bash', 'sh', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'yash', 'posh', 'busybox-sh']);

export type ShellInvocation =
  | { readonly kind: 'command'; readonly payload: Word | undefined }
  | { readonly kind: 'stdin' }
  | { readonly kind: 'script'; readonly script: Word };

/** True when `name` (a static command name, maybe a path) is a POSIX-style shell. */
export function isShell(name: string): boolean {
  return SHELLS.has(basename(name));
}

/** Script paths that are stdin under another name. */
const STDIN_PATHS = new Set(['/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);

/** Long options that take the next word as their value. */
const LONG_WITH_VALUE = new Set(['--rcfile', '--init-file']);

/**
 * Reads a shell's arguments as the shell does: options first (`-c` may be
 * inside a cluster such as `-lc`; `-o`/`-O` take a value), then the first
 * operand is the `-c` string, or else the script file. `-s` or no operand
 * means the script is read from stdin.
 */
export function shellInvocation(args: readonly Word[]): ShellInvocation {
  let commandMode = false;
  let stdinMode = false;
  let i = 0;
  while (i < args.length) {
    const w = args[i]?.value;
    if (w === null || w === undefined) break; // a dynamic operand
    if (w === '--' || w === '-') {
      i++;
      break;
    }
    if (w.startsWith('--')) {
      i += LONG_WITH_VALUE.has(w) ? 2 : 1;
      continue;
    }
    if (!/^[-+]./.test(w)) break;
    const flags = w.slice(1);
    if (flags.includes('c')) commandMode = true;
    if (flags.includes('s')) stdinMode = true;
    // Each `o` / `O` in a cluster consumes one following word (`-o pipefail`).
    i += 1 + [...flags].filter((f) => f === 'o' || f === 'O').length;
  }
  const operand = args[i];
  if (commandMode) return { kind: 'command', payload: operand };
  if (stdinMode || operand === undefined || STDIN_PATHS.has(operand.value ?? '')) return { kind: 'stdin' };
  return { kind: 'script', script: operand };
}
