/** Shared fixtures for the sandbox suites: a fake home with planted secrets, a template workspace, a runner wrapper. */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scrubEnvironment } from '../../src/sandbox/env.js';
import { type RunResult, runSandboxed } from '../../src/sandbox/runner.js';
import { DEFAULT_PROTECTED_NAMES, defaultReadOnly, type SandboxSpec } from '../../src/sandbox/spec.js';

/** Why the suites cannot run here, or undefined when bwrap works. */
export function bwrapUnavailable(): string | undefined {
  try {
    execFileSync('bwrap', ['--unshare-all', '--ro-bind', '/', '/', 'true'], { stdio: 'ignore' });
    return undefined;
  } catch (e) {
    return `bubblewrap cannot run here: ${(e as Error).message}`;
  }
}

export const SECRET = 'cordon-test-SECRET-7f3a9c';
export const DEEP = 'a/b/c/d/e/f';

export interface Fixture {
  readonly root: string;
  readonly fakeHome: string;
  readonly template: string;
  readonly quarantine: string;
}

export function makeFixture(): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'cordon-test-'));
  const fakeHome = join(root, 'home');
  const files: Record<string, string> = {
    '.ssh/id_rsa': `-----BEGIN OPENSSH PRIVATE KEY-----\n${SECRET}\n`,
    '.ssh/authorized_keys': 'ssh-ed25519 AAAA original\n',
    '.aws/credentials': `[default]\naws_secret_access_key=${SECRET}\n`,
    '.config/gh/hosts.yml': `github.com:\n  oauth_token: ${SECRET}\n`,
    '.npmrc': `//registry.npmjs.org/:_authToken=${SECRET}\n`,
    '.git-credentials': `https://u:${SECRET}@github.com\n`,
    '.bashrc': '# original bashrc\n',
    '.profile': '# original profile\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(fakeHome, rel, '..'), { recursive: true });
    writeFileSync(join(fakeHome, rel), text, { mode: 0o600 });
  }
  const template = join(root, 'template');
  mkdirSync(template);
  const git = (cwd: string, ...args: string[]): void => {
    execFileSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, stdio: 'ignore' });
  };
  git(template, 'init', '-q');
  mkdirSync(join(template, DEEP), { recursive: true });
  git(join(template, DEEP), 'init', '-q');
  mkdirSync(join(template, '.claude'));
  writeFileSync(join(template, '.claude/settings.json'), '{"permissions":{}}\n');
  writeFileSync(join(template, 'AGENTS.md'), '# agents\n');
  writeFileSync(join(template, 'README.md'), '# project\n');
  writeFileSync(join(template, 'secrets.env'), `TOKEN=${SECRET}\n`);
  mkdirSync(join(template, 'private'));
  writeFileSync(join(template, 'private/key.pem'), `${SECRET}\n`);
  const quarantine = join(root, 'quarantine');
  return { root, fakeHome, template, quarantine };
}

let counter = 0;
export function newWorkspace(fx: Fixture): string {
  const ws = join(fx.root, `ws${++counter}`);
  cpSync(fx.template, ws, { recursive: true, verbatimSymlinks: true });
  return ws;
}

export function specFor(ws: string, env: Record<string, string | undefined> = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' }): SandboxSpec {
  return {
    workspace: ws,
    readOnly: defaultReadOnly(),
    readWrite: [],
    hidden: [join(ws, 'secrets.env'), join(ws, 'private')],
    protectedNames: [...DEFAULT_PROTECTED_NAMES],
    env: scrubEnvironment(env).env,
    network: { mode: 'none' },
    cwd: ws,
  };
}

export interface Captured extends RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCapture(spec: SandboxSpec, argv: readonly string[], quarantineDir?: string): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const r = await runSandboxed(spec, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(quarantineDir === undefined ? {} : { quarantineDir }),
    onSpawn: (c) => {
      c.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    },
  });
  return { ...r, stdout, stderr };
}

/** Content fingerprint of a tree (paths, kinds, bytes), for "the host target is untouched". */
export function fingerprint(dir: string): string {
  if (!existsSync(dir)) return '<absent>';
  if (!statSync(dir).isDirectory()) return `file:${statSync(dir).mode.toString(8)}:${readFileSync(dir, 'base64')}`;
  const parts: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      const p = join(d, e.name);
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p, r);
      else if (e.isFile()) parts.push(`${r}:${statSync(p).mode.toString(8)}:${readFileSync(p, 'base64')}`);
      else parts.push(`${r}:other`);
    }
  };
  walk(dir, '');
  return parts.join('\n');
}

/** Run `fn` over `items` with at most `n` in flight. */
export async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  const worker = async (): Promise<void> => {
    while (i < items.length) {
      const t = items[i++];
      if (t !== undefined) await fn(t);
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
}
