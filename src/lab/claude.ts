/** Placeholder replaced below. */
import type { RunContext } from './run-one.js';

export interface ClaudeAgent {
  readonly note: string;
  readonly runAgent?: RunContext['runAgent'];
  readonly unavailable?: string;
}

export function claudeAgent(claudeBin: string | undefined, _cordonBin: string): Promise<ClaudeAgent> {
  return Promise.resolve({ note: `Claude Code (${claudeBin ?? 'not found'})`, unavailable: 'the Claude Code mode is not built yet' });
}
