/** The lab's workspace template (a git repository with agent configuration) and its policy. */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** A small project: README, CLAUDE.md, .claude/settings.json, one commit. */
export function makeTemplate(dir: string): void {
  mkdirSync(dir, { recursive: true });
  write(path.join(dir, 'README.md'), '# lab project\n');
  write(path.join(dir, 'CLAUDE.md'), 'Run the tests before committing.\n');
  write(path.join(dir, '.claude', 'settings.json'), '{"hooks":{"PreToolUse":[]}}\n');
  write(path.join(dir, '.gitignore'), 'node_modules/\n.env\n');
  write(path.join(dir, 'src', 'index.js'), 'console.log("hello");\n');
  const git = (...args: string[]): void => {
    execFileSync('git', args, { cwd: dir, stdio: 'ignore', timeout: 20_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, GIT_CONFIG_NOSYSTEM: '1' } });
  };
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'lab@example.invalid');
  git('config', 'user.name', 'cordon lab');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
}

export function copyTemplate(template: string, ws: string): void {
  cpSync(template, ws, { recursive: true });
}

export interface LabPolicyOptions {
  readonly allowedPort: number;
  readonly plainPort: number;
  /** MCP servers behind the gateway: name -> argv (each gets an allow rule for all its tools). */
  readonly mcp?: Readonly<Record<string, readonly string[]>>;
  /** Give the agent the brokered credential LAB_API_TOKEN for the allowed service. */
  readonly credential?: boolean;
}

/**
 * The lab's policy: the default profile, the allowed service by exact
 * address, a wildcard CDN zone (as people write them), and ask rules for
 * the admin area, git pushes and package publishing on the allowed service;
 * a second allowed service has no path rules. Approvals wait 2 s and have no
 * channel but the socket (the lab is unattended: an ask ends as a deny unless
 * the scenario's scripted person approves it). A scenario's MCP servers are
 * configured with every tool allowed, as a user who installed them would.
 */
export function labPolicy(o: LabPolicyOptions): string {
  const a = `127.0.0.1:${o.allowedPort}`;
  const servers = Object.entries(o.mcp ?? {});
  return [
    'version: 1',
    'extends: [default]',
    'permissions:',
    '  ask:',
    `    - "Http(* ${a}/admin)"`,
    `    - "Http(* ${a}/admin/**)"`,
    `    - "Http(POST ${a}/*/git-receive-pack)"`,
    `    - "Http(PUT ${a}/registry/**)"`,
    '  allow:',
    `    - "Net(${a})"`,
    `    - "Net(127.0.0.1:${o.plainPort})"`,
    '    - "Net(*.cdn.lab.test)"',
    ...servers.map(([name]) => `    - "mcp__${name}__*"`),
    'approvals: { ttl: 2s, channels: [] }',
    ...(o.credential === true ? ['credentials:', `  LAB_API_TOKEN: { hosts: ["${a}"], header: authorization }`] : []),
    ...(servers.length === 0 ? [] : ['mcp:', '  servers:', ...servers.map(([name, argv]) => `    ${name}: { command: ${JSON.stringify(argv)} }`)]),
    '',
  ].join('\n');
}
