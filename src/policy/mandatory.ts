/**
 * Mandatory protections, as data. These denies are added before every other
 * rule; no scope below managed can lift them and no approval can override
 * them. Each entry carries the one-line reason shown in decisions.
 */
import { METADATA_ADDRESSES, METADATA_NAMES } from '../egress/metadata-endpoints.js';

export interface MandatoryEntry {
  readonly rule: string;
  readonly reason: string;
}

/** Agent instruction files: writing one steers the next agent session. Managed policy can replace the list. */
export const DEFAULT_INSTRUCTION_FILES: readonly string[] = [
  'CLAUDE.md', 'CLAUDE.local.md', 'AGENTS.md', 'AGENT.md', 'GEMINI.md', '.windsurfrules', '.clinerules', '.github/copilot-instructions.md',
];

export interface ProtectedName {
  /** A name relative to any directory of the workspace (`.envrc`, `.git/hooks`). */
  readonly name: string;
  readonly reason: string;
}

/** Agent configuration and persistence files protected at every depth of the workspace. */
export const WORKSPACE_PROTECTED_NAMES: readonly ProtectedName[] = [
  { name: '.claude', reason: 'Claude Code settings, hooks and commands decide what the agent may do next.' },
  { name: '.mcp.json', reason: 'lists MCP servers the harness launches: a new entry runs a program.' },
  { name: '.cursor', reason: 'Cursor settings, rules and MCP configuration.' },
  { name: '.cursorrules', reason: 'Cursor agent instructions.' },
  { name: '.roo', reason: 'Roo Code agent configuration.' },
  { name: '.continue', reason: 'Continue agent configuration.' },
  { name: '.aider.conf.yml', reason: 'aider configuration.' },
  { name: '.vscode', reason: 'VS Code tasks and settings can run programs when the folder opens.' },
  { name: '.idea', reason: 'JetBrains run configurations and startup tasks run programs.' },
  { name: '.gemini', reason: 'Gemini CLI settings and MCP configuration.' },
  { name: '.codex', reason: 'Codex CLI configuration.' },
  { name: '.devcontainer', reason: 'dev container definitions run commands when the project is opened.' },
  { name: '.git/hooks', reason: 'git hooks run on commit, checkout and push.' },
  { name: '.git/config', reason: 'git config can name hooks (core.hooksPath), fsmonitor and pager programs.' },
  { name: '.git/info/attributes', reason: 'git attributes select filter and diff drivers that run programs.' },
  { name: '.gitmodules', reason: 'submodule URLs and update commands run on the next clone or update.' },
  { name: '.husky', reason: 'husky hooks run on every commit.' },
  { name: '.pre-commit-config.yaml', reason: 'pre-commit runs the hooks it lists.' },
  { name: '.envrc', reason: 'direnv runs it when a shell enters the directory.' },
  { name: '.npmrc', reason: 'npm config can set script-shell, node-options and the registry for installs.' },
  { name: '.yarnrc', reason: 'yarn config can change the registry and run programs.' },
  { name: '.yarnrc.yml', reason: 'yarn config can load plugins and change the registry.' },
  { name: '.pypirc', reason: 'package index credentials and upload targets.' },
  { name: '.netrc', reason: 'credentials used by curl, git and others.' },
  { name: '.ssh', reason: 'SSH keys and authorized_keys grant logins.' },
  ...['.bashrc', '.bash_profile', '.bash_login', '.bash_logout', '.profile', '.zshrc', '.zshenv', '.zprofile', '.zlogin'].map(
    (name) => ({ name, reason: 'a shell start-up file runs in every new shell (the workspace may be a home directory).' }),
  ),
];

/** A relative name as a gitignore pattern matching it at every depth. */
function anyDepth(name: string): string {
  return name.includes('/') ? `**/${name}` : name;
}

/** The relative names the sandbox keeps read-only and uncreatable at every depth of the workspace. */
export function protectedNames(instructionFiles: readonly string[] = DEFAULT_INSTRUCTION_FILES): string[] {
  return [...WORKSPACE_PROTECTED_NAMES.map((p) => p.name), ...instructionFiles];
}

/** Persistence files in the home directory and the system. */
export const HOST_WRITE_PROTECTIONS: readonly MandatoryEntry[] = [
  ...['.bashrc', '.bash_profile', '.bash_login', '.bash_logout', '.profile', '.zshrc', '.zshenv', '.zprofile', '.zlogin', '.config/fish'].map(
    (f) => ({ rule: `Edit(~/${f})`, reason: 'a shell start-up file runs in every new shell.' }),
  ),
  { rule: 'Edit(~/.ssh)', reason: 'SSH keys and authorized_keys grant logins.' },
  { rule: 'Edit(~/.gitconfig)', reason: 'global git config can run programs (hooks, pagers, credential helpers).' },
  { rule: 'Edit(~/.config/git)', reason: 'global git config can run programs.' },
  { rule: 'Edit(~/.npmrc)', reason: 'npm config can set script-shell and node-options for every install.' },
  { rule: 'Edit(~/.claude)', reason: 'Claude Code user settings and hooks.' },
  { rule: 'Edit(~/.claude.json)', reason: 'Claude Code user state and MCP servers.' },
  { rule: 'Edit(~/.codex)', reason: 'Codex CLI user configuration.' },
  { rule: 'Edit(~/.gemini)', reason: 'Gemini CLI user configuration.' },
  { rule: 'Edit(~/.cursor)', reason: 'Cursor user configuration.' },
  { rule: 'Edit(~/.config/cordon)', reason: "cordon's own policy: the agent must not edit its containment." },
  { rule: 'Edit(~/.local/state/cordon)', reason: "cordon's audit log: the agent must not edit the record of what it did." },
  { rule: 'Edit(~/.config/autostart)', reason: 'desktop autostart entries run at login.' },
  { rule: 'Edit(~/.config/systemd)', reason: 'user systemd units run at login and on timers.' },
  { rule: 'Edit(//etc/cordon)', reason: "cordon's managed policy." },
  { rule: 'Edit(//var/spool/cron)', reason: 'crontabs run commands on a schedule.' },
  { rule: 'Edit(//etc/cron*)', reason: 'system crontabs run commands on a schedule.' },
  { rule: 'Edit(//etc/profile)', reason: 'system shell start-up file.' },
  { rule: 'Edit(//etc/profile.d)', reason: 'system shell start-up files.' },
  { rule: 'Edit(//etc/bash.bashrc)', reason: 'system shell start-up file.' },
  { rule: 'Edit(//etc/ld.so.preload)', reason: 'preloads a library into every program.' },
  { rule: 'Edit(//etc/sudoers*)', reason: 'grants root.' },
  { rule: 'Edit(//etc/systemd)', reason: 'system units run as root.' },
];

/** Cloud metadata endpoints hand out credentials: unreachable whatever the rules say. */
export const EGRESS_PROTECTIONS: readonly MandatoryEntry[] = [...METADATA_ADDRESSES, ...METADATA_NAMES].map((m) => ({
  rule: m.host.includes(':') ? `Net([${m.host}])` : `Net(${m.host})`,
  reason: `cloud metadata endpoint: ${m.reason.replace(/\.$/, '')}.`,
}));

export function mandatoryEntries(instructionFiles: readonly string[] = DEFAULT_INSTRUCTION_FILES): MandatoryEntry[] {
  return [
    ...WORKSPACE_PROTECTED_NAMES.map((p) => ({ rule: `Edit(${anyDepth(p.name)})`, reason: p.reason })),
    ...instructionFiles.map((f) => ({ rule: `Edit(${anyDepth(f)})`, reason: 'agent instruction file: writing it steers the next agent session.' })),
    ...HOST_WRITE_PROTECTIONS,
    ...EGRESS_PROTECTIONS,
  ];
}
