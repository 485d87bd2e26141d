/**
 * Adds cordon's PreToolUse hook to a Claude Code `settings.json` or a Codex
 * `hooks.json` (both use the same `hooks` shape), keeping every other key and
 * every other hook as it was. A file whose shape cordon does not understand
 * is refused, never rewritten.
 */
import { z } from 'zod';
import { CordonError } from '../errors.js';

export interface HookEntry {
  /** Tool-name matcher (a regex for both harnesses); `*` is every tool in Claude Code. */
  readonly matcher: string;
  readonly command: string;
  /** Seconds the harness waits before giving up on the hook. */
  readonly timeout: number;
}

/** POSIX shell quoting: the harness runs `command` through a shell. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** A hook command cordon wrote: it runs `... hook claude-code` or `... hook codex`. */
export function isCordonHookCommand(command: string): boolean {
  return /(^|\s)hook (claude-code|codex)(\s|$)/.test(command);
}

const HookHandler = z.looseObject({ type: z.string().optional(), command: z.string().optional() });
const MatcherGroup = z.looseObject({ matcher: z.string().optional(), hooks: z.array(HookHandler) });
const SettingsShape = z.looseObject({
  hooks: z.record(z.string(), z.array(MatcherGroup)).optional(),
});

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Returns the settings with cordon's hook as the only cordon entry under
 * `hooks.PreToolUse` (an earlier cordon entry is replaced in place, so running
 * init twice changes nothing), and how many earlier entries were replaced.
 */
export function mergeHookSettings(existing: unknown, entry: HookEntry, file: string): { settings: Record<string, unknown>; replaced: number } {
  if (existing !== undefined && !isObject(existing)) {
    throw new CordonError('CORDON_USAGE', `${file}: the top level is not a JSON object; fix or move the file, cordon will not overwrite it`);
  }
  const base: Record<string, unknown> = existing ?? {};
  const r = SettingsShape.safeParse(base);
  if (!r.success) {
    const where = r.error.issues[0]?.path.map(String).join('.') ?? 'hooks';
    throw new CordonError('CORDON_USAGE', `${file}: '${where}' does not have the documented hooks shape; fix it by hand, cordon will not overwrite it`);
  }
  const ours = { matcher: entry.matcher, hooks: [{ type: 'command', command: entry.command, timeout: entry.timeout }] };
  const hooks: Record<string, unknown> = isObject(base['hooks']) ? { ...base['hooks'] } : {};
  const groups: unknown[] = Array.isArray(hooks['PreToolUse']) ? [...(hooks['PreToolUse'] as unknown[])] : [];
  let replaced = 0;
  const out: unknown[] = [];
  for (const g of groups) {
    const parsed = MatcherGroup.safeParse(g);
    const isOurs = parsed.success && parsed.data.hooks.some((h) => h.command !== undefined && isCordonHookCommand(h.command));
    if (!isOurs) {
      out.push(g);
    } else if (replaced++ === 0) {
      out.push(ours);
    }
  }
  if (replaced === 0) out.unshift(ours);
  hooks['PreToolUse'] = out;
  return { settings: { ...base, hooks }, replaced };
}
