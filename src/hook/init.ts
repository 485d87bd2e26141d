/**
 * `cordon init claude-code|codex`: installs the PreToolUse hook in the
 * harness's settings (merged, the old file backed up, written atomically) and
 * says how to start the agent through `cordon run`.
 */
import { copyFileSync, existsSync, readFileSync, renameSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { CordonError } from '../errors.js';
import type { Harness } from './answer.js';
import { commandLine, mergeHookSettings, type HookEntry } from './settings.js';

/** Claude Code's managed settings on Linux; `allowManagedHooksOnly` there turns off every other hook. */
export const CLAUDE_MANAGED_SETTINGS = '/etc/claude-code/managed-settings.json';

export interface InitOptions {
  readonly managed?: boolean;
  readonly dryRun?: boolean;
  /** Codex only: `$CODEX_HOME/hooks.json` instead of the project's `.codex/hooks.json`. */
  readonly user?: boolean;
  /** Write this file instead of the default location. */
  readonly file?: string;
  readonly workspace?: string;
}

export interface InitIo {
  readonly stdout: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  /** How to run cordon itself, e.g. `[process.execPath, '/opt/cordon/dist/cli/main.js']`. */
  readonly cordonArgv: readonly string[];
  readonly now?: () => Date;
}

function targetFile(harness: Harness, o: InitOptions, io: InitIo, workspace: string): string {
  if (o.file !== undefined) return path.resolve(o.file);
  if (harness === 'claude-code') {
    if (o.user === true) throw new CordonError('CORDON_USAGE', '--user is for codex; for Claude Code use the project default or --managed');
    return o.managed === true ? CLAUDE_MANAGED_SETTINGS : path.join(workspace, '.claude', 'settings.json');
  }
  if (o.managed === true) {
    throw new CordonError('CORDON_USAGE', 'Codex managed hooks come from requirements.toml or MDM, which your administrator owns; use the project default or --user');
  }
  const codexHome = io.env['CODEX_HOME'] ?? path.join(io.home, '.codex');
  return o.user === true ? path.join(codexHome, 'hooks.json') : path.join(workspace, '.codex', 'hooks.json');
}

function readExisting(file: string): unknown {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CordonError('CORDON_USAGE', `${file} is not valid JSON (${e instanceof Error ? e.message : 'parse error'}); fix it first, cordon will not overwrite it`);
  }
}

function writeAtomic(file: string, text: string, now: Date): string | null {
  mkdirSync(path.dirname(file), { recursive: true });
  let backup: string | null = null;
  let mode = 0o644;
  if (existsSync(file)) {
    mode = statSync(file).mode & 0o777;
    backup = `${file}.cordon-backup-${now.toISOString().replace(/[:.]/g, '-')}`;
    copyFileSync(file, backup);
  }
  const tmp = `${file}.cordon-tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode, flag: 'wx' });
  renameSync(tmp, file);
  return backup;
}

function placementWarnings(argv: readonly string[], workspace: string, home: string): string[] {
  const out: string[] = [];
  for (const p of argv.filter((a) => path.isAbsolute(a))) {
    if (p === workspace || p.startsWith(`${workspace}/`)) {
      out.push(`warning: ${p} is inside the workspace, where the agent can write; install cordon outside it (e.g. npm install -g) so the agent cannot change its own hook`);
    } else if (p.startsWith(`${home}/`)) {
      out.push(`warning: ${p} is in your home directory, which \`cordon run\` hides from the agent; inside the sandbox the hook would fail (and block every tool call). Install node and cordon under /usr or /opt`);
    }
  }
  return out;
}

function explainHarness(harness: Harness, o: InitOptions, file: string): string[] {
  if (harness === 'claude-code') {
    const lines = [
      'The hook answers deny and ask; an allow is left to Claude Code\'s own permission rules (add --answer-allow to the hook command to change that).',
      'Any error in the hook blocks the tool call (exit 2).',
      'Start the agent inside the sandbox:  cordon run -- claude',
    ];
    if (o.managed === true || file === CLAUDE_MANAGED_SETTINGS) {
      lines.push(
        'Managed settings cannot be overridden by user or project settings.',
        'To also stop user and project settings from adding hooks of their own, add "allowManagedHooksOnly": true to this file;',
        'cordon does not set it for you because it turns off every non-managed hook, your own included.',
      );
    } else {
      lines.push('For every project on this machine, run it as root with --managed (writes ' + CLAUDE_MANAGED_SETTINGS + ').');
    }
    return lines;
  }
  return [
    'Codex runs a new or changed hook only after you trust it: open /hooks in codex and trust the cordon hook.',
    'Project hooks (.codex/hooks.json) load only when Codex trusts the project.',
    'Codex hooks cannot ask: under cordon run a cordon ask goes to cordon\'s approvals (cordon approvals / cordon ui) and runs only when a person approves it; elsewhere it is answered as deny. apply_patch is decided as Edit of every file it touches. Needs Codex CLI 0.124 or later.',
    'Start the agent inside the sandbox:  cordon run -- codex',
  ];
}

/** The hook's bound on waiting for a person (an ask under cordon run), and the harness's timeout for the hook, above it (Claude Code and Codex). */
export const CLAUDE_ASK_WAIT_S = 170;
export const CLAUDE_HOOK_TIMEOUT_S = 180;

/** Exit status 0; throws CordonError for usage problems and files it will not touch. */
export function initHarness(harness: Harness, o: InitOptions, io: InitIo): number {
  const workspace = path.resolve(o.workspace ?? process.cwd());
  const file = targetFile(harness, o, io, workspace);
  // An ask under cordon run waits for a person (approvals.ttl, default 120 s), so the hook's timeout is
  // longer than its own bound on that wait (a hook killed by the timeout must never be the outcome).
  const hookArgv = [...io.cordonArgv, 'hook', harness, '--ask-wait', String(CLAUDE_ASK_WAIT_S)];
  const entry: HookEntry = {
    matcher: harness === 'claude-code' ? '*' : 'Bash|apply_patch|mcp__.*',
    command: commandLine(hookArgv),
    timeout: CLAUDE_HOOK_TIMEOUT_S,
  };
  const { settings, replaced } = mergeHookSettings(readExisting(file), entry, file);
  const text = `${JSON.stringify(settings, null, 2)}\n`;
  const out: string[] = [];
  if (o.dryRun === true) {
    out.push(`would write ${file} (dry run, nothing written):`, text.trimEnd());
  } else {
    const backup = writeAtomic(file, text, (io.now ?? (() => new Date()))());
    out.push(`wrote ${file}${replaced > 0 ? ' (replaced the earlier cordon hook)' : ''}${backup === null ? '' : `; the previous file is saved as ${backup}`}`);
  }
  out.push(`hook command: ${entry.command}`);
  out.push(...placementWarnings(io.cordonArgv, workspace, io.home), ...explainHarness(harness, o, file));
  io.stdout(`${out.join('\n')}\n`);
  return 0;
}
