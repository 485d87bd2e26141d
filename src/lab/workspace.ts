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

/**
 * The lab's policy: the default profile, the allowed service by exact
 * address, a wildcard CDN zone (as people write them), and ask rules for
 * the admin area, git pushes and package publishing on the allowed service;
 * a second allowed service has no path rules.
 */
export function labPolicy(allowedPort: number, plainPort: number): string {
  const a = `127.0.0.1:${allowedPort}`;
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
    `    - "Net(127.0.0.1:${plainPort})"`,
    '    - "Net(*.cdn.lab.test)"',
    '',
  ].join('\n');
}
