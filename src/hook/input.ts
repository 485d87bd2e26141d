/**
 * The PreToolUse hook input, as Claude Code documents it (and Codex CLI
 * copies): common fields plus `tool_name`, `tool_input`, `tool_use_id`.
 * Harnesses add fields release by release, so unknown top-level fields are
 * tolerated; every field cordon reads is strictly typed, and a mismatch is a
 * refusal (exit 2), never a guess.
 */
import path from 'node:path';
import { z } from 'zod';

const noNul = (s: string): boolean => !s.includes('\u0000');

export const HookInputSchema = z.looseObject({
  session_id: z.string().min(1).max(512).describe('Harness session id; names the audit session.'),
  transcript_path: z.string().nullable().optional().describe('Path of the transcript (not read by cordon).'),
  cwd: z
    .string()
    .refine((s) => path.isAbsolute(s) && noNul(s), 'must be an absolute path')
    .describe('Working directory of the agent session.'),
  permission_mode: z.string().optional().describe('default, plan, acceptEdits, dontAsk, bypassPermissions... (recorded, not trusted).'),
  hook_event_name: z.literal('PreToolUse').describe('cordon answers PreToolUse only.'),
  tool_name: z
    .string()
    .min(1)
    .max(256)
    // eslint-disable-next-line no-control-regex
    .refine((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s), 'contains control characters')
    .describe('Bash, Read, Edit, Write, WebFetch, mcp__server__tool...'),
  tool_input: z.record(z.string(), z.unknown()).describe('The tool arguments; shape depends on the tool.'),
  tool_use_id: z.string().optional().describe('The tool call id.'),
});
export type HookInput = z.infer<typeof HookInputSchema>;

const filePath = z.string().min(1).refine(noNul, 'contains a NUL byte');
const optionalDir = filePath.nullable().optional();

/** The fields cordon reads from each tool's input; other fields are the tool's business. */
export const TOOL_INPUT_SCHEMAS = {
  Bash: z.looseObject({ command: z.string() }),
  Read: z.looseObject({ file_path: filePath }),
  NotebookRead: z.looseObject({ notebook_path: filePath }),
  LS: z.looseObject({ path: filePath }),
  Glob: z.looseObject({ pattern: z.string(), path: optionalDir }),
  Grep: z.looseObject({ pattern: z.string(), path: optionalDir }),
  Edit: z.looseObject({ file_path: filePath }),
  Write: z.looseObject({ file_path: filePath }),
  MultiEdit: z.looseObject({ file_path: filePath }),
  NotebookEdit: z.looseObject({ notebook_path: filePath }),
  WebFetch: z.looseObject({ url: z.string().min(1) }),
  /** Codex CLI: the patch text arrives as `command`. */
  apply_patch: z.looseObject({ command: z.string() }),
} as const;

/** Formats zod issues as one line: `tool_input.command: expected string, received number`. */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${[prefix, ...i.path.map(String)].filter((p) => p !== '').join('.') || '(input)'}: ${i.message}`)
    .join('; ');
}
