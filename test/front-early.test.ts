/**
 * The early sandbox spawned by bin/cordon's front (native/front/early.c)
 * before node starts: its qualifier agrees with early.ts's on a table of
 * argvs; a repeated run uses it (bwrap is the front's child); a guess made
 * stale by a new .env is never used; a supervisor that dies before the gate
 * leaves no command started and no directory behind. Real processes:
 * bin/cordon, the built front, node, bwrap.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { qualifies } from '../src/sandbox/early.js';
import { ROOT } from './cli-helpers.js';
import { childrenOf, waitFor } from './process-helpers.js';

const BIN_CORDON = path.join(ROOT, 'bin', 'cordon');
const FRONT = path.join(ROOT, 'native', 'front', 'build', 'cordon-front');
const bwrap = ['/usr/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));
const built = existsSync(path.join(ROOT, 'dist', 'bin', 'run-loader.cjs'));
// In CI the front must have been built by `npm ci`: there a missing front fails the suite.
const skip = !bwrap ? 'bubblewrap is not installed (apt-get install -y bubblewrap)'
  : !built ? 'dist/ is not built (npm run build)'
  : !existsSync(FRONT) && process.env['CI'] !== 'true' ? 'native/front was not built (npm run build:native; needs a C compiler)' : false;

interface Setup {
  readonly ws: string;
  readonly tmp: string;
  readonly state: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A workspace, and a state directory and TMPDIR of its own (so the early sandbox's files can be looked at). */
function setup(): Setup {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-front-early-'));
  const ws = path.join(root, 'ws');
  const tmp = path.join(root, 'tmp');
  const state = path.join(root, 'state');
  mkdirSync(ws);
  mkdirSync(tmp);
  const { NODE_EXTRA_CA_CERTS: _ca, CORDON_EARLY: _e, CORDON_FRONT: _f, ...env } = process.env;
  return { ws, tmp, state, env: { ...env, TMPDIR: tmp, XDG_STATE_HOME: state, CORDON_MANAGED_POLICY: '/nonexistent/m.yaml', XDG_CONFIG_HOME: '/nonexistent/xdg' } };
}

function run(s: Setup, args: readonly string[], extra: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BIN_CORDON, ['run', ...args], { cwd: s.ws, env: { ...s.env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs `args` twice: the first run of a command line caches its plan, the second remembers its argv for the next. */
function prime(s: Setup, args: readonly string[]): void {
  for (let i = 0; i < 2; i++) {
    const r = run(s, args);
    assert.equal(r.status, 0, r.stderr);
  }
}

/** The argv remembered by the last run in `s` (early.ts `remember`: NUL-terminated fields, the magic, bwrap, the arguments). */
function remembered(s: Setup): string[] {
  const dir = path.join(s.state, 'cordon', 'cache');
  const files = readdirSync(dir).filter((f) => f.startsWith('early-') && f.endsWith('.bin'));
  assert.equal(files.length, 1, 'one command line remembered');
  const fields = readFileSync(path.join(dir, files[0] ?? ''), 'utf8').split('\u0000').slice(0, -1);
  assert.equal(fields[0], 'cordon-early-2');
  return fields.slice(2);
}

function frontQualifies(args: readonly string[]): boolean {
  const r = spawnSync(FRONT, ['--qualify'], { input: `${args.join('\u0000')}\u0000`, encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, `cordon-front --qualify: ${r.status} ${r.stderr}`);
  return r.status === 0;
}

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\u0000')[0] ?? '';
  } catch {
    return '';
  }
};

void describe('the early sandbox spawned by native/front', { skip }, () => {
  void it('the C qualifier agrees with early.ts on real and tampered argvs', () => {
    const s = setup();
    prime(s, ['--', 'true']);
    const base = mkdtempSync(path.join(s.tmp, 'cordon-'));
    mkdirSync(path.join(base, 'home'));
    mkdirSync(path.join(base, 'tmp'));
    const real = remembered(s).map((a) => a.split('\u0001').join(base));
    const at = (opt: string): number => real.indexOf(opt);
    const replaced = (i: number, v: string): string[] => real.map((a, j) => (j === i ? v : a));
    const without = (opt: string, n: number): string[] => real.filter((_, j) => j < at(opt) || j > at(opt) + n);
    const dash = at('--');
    const gate = ['--die-with-parent', '--seccomp', '4'];
    const table: [string, string[]][] = [
      ['the real argv', real],
      ['no gate', without('--seccomp', 1)],
      ['two gates', ['--seccomp', '4', ...real]],
      ['gate on another fd', replaced(at('--seccomp') + 1, '5')],
      ['gate written " 4"', replaced(at('--seccomp') + 1, ' 4')],
      ['no --die-with-parent', without('--die-with-parent', 0)],
      ['--die-with-parent only in the command', [...without('--die-with-parent', 0), '--die-with-parent']],
      ['a foreign option', ['--uid', '0', ...real]],
      ['an option bwrap writes the host with', ['--bind-data', '9', '/x', ...real]],
      ['status on another fd', replaced(at('--json-status-fd') + 1, '7')],
      ['no command', real.slice(0, dash + 1)],
      ['no --', real.slice(0, dash)],
      ['truncated operands', ['--bind', '/usr']],
      ['a vanished bind source', ['--bind', path.join(s.ws, 'gone'), path.join(s.ws, 'gone'), ...real]],
      ['a bind onto a vanished target', ['--ro-bind', '/usr', path.join(s.ws, 'gone'), ...real]],
      ['/dev/null over a directory', ['--ro-bind', '/dev/null', s.ws, ...real]],
      ['/dev/null over a missing file', ['--ro-bind', '/dev/null', path.join(s.ws, 'gone'), ...real]],
      ['/dev/null over a file', ['--ro-bind', '/dev/null', '/etc/hostname', ...real]],
      ['bind-try to another path', ['--ro-bind-try', '/usr', '/opt/x', ...real]],
      ['tmpfs on a missing dir', ['--tmpfs', path.join(s.ws, 'gone'), ...real]],
      ['tmpfs on a file', ['--tmpfs', '/etc/hostname', ...real]],
      ['chdir to a missing dir', ['--chdir', path.join(s.ws, 'gone'), ...real]],
      ['a symlink the host does not have', ['--symlink', 'usr/bin', '/nonexistent-link', ...real]],
      ['a symlink with other text', ['--symlink', 'usr/sbin', '/bin', ...real]],
      ['the host symlink', ['--symlink', 'usr/bin', '/bin', ...real]],
      ['writable perms', replaced(at('--perms') + 1, '0644')],
      ['copies out of order', [...gate, '--file', '7', '/etc/passwd', '--', 'true']],
      ['a copy of a missing file', [...gate, '--file', '6', '/etc/no-such-file', '--', 'true']],
      ['a copy of a directory', [...gate, '--file', '6', '/etc', '--', 'true']],
      ['a copy outside /etc', [...gate, '--file', '6', path.join(ROOT, 'package.json'), '--', 'true']],
      ['a copy too big', [...gate, '--file', '6', '/etc/ssl/certs/ca-certificates.crt', '--', 'true']],
      ['two copies in order', [...gate, '--perms', '0444', '--file', '6', '/etc/passwd', '--perms', '0444', '--file', '7', '/etc/group', '--', 'true']],
      ['an empty argv', []],
      ['an empty option', ['', ...real]],
    ];
    let agreed = 0;
    for (const [why, args] of table) {
      assert.equal(frontQualifies(args), qualifies(args), `${why}: C and TypeScript disagree`);
      agreed++;
    }
    assert.equal(qualifies(real), true, 'the real argv qualifies');
    assert.equal(agreed, table.length);
  });

  void it('a repeated run uses the sandbox the front spawned: bwrap is the front\'s child, the command runs once', async () => {
    const s = setup();
    const argv = ['--', 'sh', '-c', 'echo ran >> runs.log; touch started; while [ ! -e stop ]; do sleep 0.05; done'];
    writeFileSync(path.join(s.ws, 'stop'), '');
    prime(s, argv);
    for (const [early, want] of [['1', 2], ['0', 1]] as const) {
      for (const f of ['started', 'stop']) rmSync(path.join(s.ws, f), { force: true });
      const child = spawn(BIN_CORDON, ['run', ...argv], { cwd: s.ws, env: { ...s.env, CORDON_EARLY: early }, stdio: ['ignore', 'ignore', 'pipe'] });
      const done = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
      assert.ok(await waitFor(() => existsSync(path.join(s.ws, 'started')), 20_000), 'the command started');
      const kids = childrenOf(child.pid ?? 0).map(cmdline);
      writeFileSync(path.join(s.ws, 'stop'), '');
      assert.equal(await done, 0);
      assert.equal(kids.length, want, `CORDON_EARLY=${early}: the front's children ${kids.join(', ')}`);
      if (want === 2) assert.ok(kids.some((k) => k.endsWith('bwrap')), `one of them is bwrap: ${kids.join(', ')}`);
    }
    assert.equal(readFileSync(path.join(s.ws, 'runs.log'), 'utf8'), 'ran\nran\nran\nran\n', 'each run ran its command once');
    assert.deepEqual(readdirSync(s.tmp), [], 'every run removed its private directory');
  });

  void it('a guess made stale by a new .env is not used: the .env stays hidden and the command runs once', () => {
    const s = setup();
    const argv = ['--', 'sh', '-c', 'echo ran >> runs.log; cat .env 2>/dev/null; true'];
    prime(s, argv);
    writeFileSync(path.join(s.ws, '.env'), 'TOKEN=front-early-secret-7f3a\n');
    const r = run(s, argv);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes('front-early-secret-7f3a'), 'the .env created since the remembered run is hidden');
    assert.equal(readFileSync(path.join(s.ws, 'runs.log'), 'utf8'), 'ran\nran\nran\n', 'the stale sandbox never ran the command');
    assert.deepEqual(readdirSync(s.tmp), []);
  });

  void it('a supervisor that dies before the gate: the command never starts, nothing is left behind', async () => {
    const s = setup();
    const argv = ['run', '--', 'sh', '-c', 'echo ran >> runs.log'];
    prime(s, argv.slice(1));
    // The front as bin/cordon starts it, but the "supervisor" is a shell that exits at once (as a crash would), with 7
    // when it was handed an early sandbox (its gate and events at fds 4 and 5), else 9.
    const check = '[ "$CORDON_EARLY_FDS" = 4,5 ] && [ -p /proc/self/fd/4 ] && [ -p /proc/self/fd/5 ] && exit 7; exit 9';
    const r = spawnSync(FRONT, ['--node-argc=3', 'sh', '-c', check, ...argv], { cwd: s.ws, env: s.env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 7, `the front spawned an early sandbox and handed it over: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(readFileSync(path.join(s.ws, 'runs.log'), 'utf8'), 'ran\nran\n', 'only the complete runs ran the command');
    assert.deepEqual(readdirSync(s.tmp), [], 'the early sandbox\'s directory was removed');
  });
});
