/**
 * The early sandbox (src/sandbox/early.ts), real bwrap: a sandbox spawned from
 * the remembered argv runs its command only when that argv is exactly the one
 * computed now; a stale guess, a supervisor that dies first and a tampered
 * file never run anything.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { qualifies, speculate } from '../../src/sandbox/early.js';
import { runSandboxed } from '../../src/sandbox/runner.js';
import { bwrapUnavailable, type Fixture, makeFixture, newWorkspace, SECRET, specFor } from './helpers.js';

const skip = bwrapUnavailable();
let fx: Fixture;
let n = 0;
const EARLY = fileURLToPath(new URL('../../src/sandbox/early.ts', import.meta.url));

const lines = (f: string): number => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').length : 0);

void describe('early sandbox (remembered argv, real bwrap)', { skip }, () => {
  before(() => {
    fx = makeFixture();
  });
  after(() => {
    rmSync(fx.root, { recursive: true, force: true });
  });

  /** A workspace, its spec and a speculation file holding the argv of one completed run of `argv`. */
  const remembered = async (argv: string[]): Promise<{ ws: string; file: string }> => {
    const ws = newWorkspace(fx);
    const file = join(fx.root, `early-${++n}.bin`);
    const r = await runSandboxed(specFor(ws), argv, { speculation: speculate(file), stdio: ['ignore', 'inherit', 'inherit'] });
    assert.equal(r.exitCode, 0, r.error?.message);
    assert.ok(existsSync(file), 'the run remembered its argv');
    return { ws, file };
  };

  void it('adopts the early sandbox when nothing changed: the command runs once, in it', async () => {
    const argv = ['sh', '-c', 'echo ran >> runs.log'];
    const { ws, file } = await remembered(argv);
    const sp = speculate(file);
    assert.ok(sp.early !== null, 'the remembered argv qualifies');
    let spawned: ChildProcess | undefined;
    const r = await runSandboxed(specFor(ws), argv, { speculation: sp, onSpawn: (c) => (spawned = c) });
    assert.equal(r.exitCode, 0, r.error?.message);
    assert.equal(spawned, undefined, 'no fresh bwrap was spawned: the early one ran the command');
    assert.equal(lines(join(ws, 'runs.log')), 2);
  });

  void it('an adopted early sandbox has the copied /etc files, identical to the host\'s and read-only', async () => {
    const argv = ['sh', '-c', 'cat /etc/passwd > passwd.seen; stat -c %a /etc/passwd > mode.seen; echo x >> /etc/passwd && echo WROTE > wrote.seen; true'];
    const { ws, file } = await remembered(argv);
    const sp = speculate(file);
    assert.ok(sp.early !== null, 'an argv with copies qualifies');
    assert.ok(sp.early.args.includes('--file'), 'the default read-only set has copied files');
    let spawned: ChildProcess | undefined;
    const r = await runSandboxed(specFor(ws), argv, { speculation: sp, onSpawn: (c) => (spawned = c) });
    assert.equal(r.exitCode, 0, r.error?.message);
    assert.equal(spawned, undefined, 'adopted');
    assert.equal(readFileSync(join(ws, 'passwd.seen'), 'utf8'), readFileSync('/etc/passwd', 'utf8'));
    assert.equal(readFileSync(join(ws, 'mode.seen'), 'utf8').trim(), '444');
    assert.ok(!existsSync(join(ws, 'wrote.seen')), 'the copy cannot be written');
  });

  void it('abandons a stale guess: a .env created since is hidden, and only the fresh sandbox runs the command', async () => {
    const argv = ['sh', '-c', 'echo ran >> runs.log; cat .env 2>/dev/null; true'];
    const { ws, file } = await remembered(argv);
    writeFileSync(join(ws, '.env'), `TOKEN=${SECRET}\n`);
    const spec = specFor(ws);
    const sp = speculate(file);
    assert.ok(sp.early !== null);
    let out = '';
    let spawned: ChildProcess | undefined;
    const r = await runSandboxed({ ...spec, hidden: [...spec.hidden, join(ws, '.env')] }, argv, {
      speculation: sp,
      onSpawn: (c) => {
        spawned = c;
        c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    assert.equal(r.exitCode, 0, r.error?.message);
    assert.ok(spawned !== undefined, 'a fresh sandbox ran the command');
    assert.ok(!out.includes(SECRET), 'the .env created after the remembered run is hidden');
    assert.equal(lines(join(ws, 'runs.log')), 2, 'the abandoned sandbox never ran the command');
  });

  void it('the command never starts when the supervisor dies before checking the argv', async () => {
    const argv = ['sh', '-c', 'echo ran >> runs.log'];
    const { ws, file } = await remembered(argv);
    // A supervisor that spawns the early sandbox and exits at once (as a crash would).
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(EARLY)}).then((m) => { const s = m.speculate(${JSON.stringify(file)}); process.stdout.write(s.early === null ? 'none' : 'spawned'); process.exit(0); })`], { encoding: 'utf8' });
    assert.equal(r.stdout, 'spawned', r.stderr);
    await new Promise((res) => setTimeout(res, 1500));
    assert.equal(lines(join(ws, 'runs.log')), 1, 'only the first (complete) run ran the command');
  });

  void it('a remembered argv without the gate, with a foreign option, or naming a vanished path never spawns', async () => {
    const argv = ['sh', '-c', 'echo ran >> runs.log'];
    const { ws, file } = await remembered(argv);
    // The remembered file: NUL-terminated fields, the magic, bwrap's path, then the arguments (early.ts remember).
    const [magic = '', bwrap = '', ...args] = readFileSync(file, 'utf8').split('\u0000').slice(0, -1);
    assert.equal(magic, 'cordon-early-2');
    const noGate = args.filter((a, i) => a !== '--seccomp' && args[i - 1] !== '--seccomp');
    const foreign = ['--file', '0', '/etc/x', ...args];
    const vanished = ['--bind', join(ws, 'gone'), join(ws, 'gone'), ...args];
    for (const [why, bad] of [['no gate', noGate], ['foreign option', foreign], ['vanished path', vanished]] as const) {
      writeFileSync(file, `${[magic, bwrap, ...bad].join('\u0000')}\u0000`);
      assert.equal(speculate(file).early, null, why);
    }
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(lines(join(ws, 'runs.log')), 1);
    assert.ok(!existsSync(join(ws, 'gone')), 'nothing was created on the host');
    assert.equal(qualifies(['--unshare-all', '--die-with-parent', '--seccomp', '4', '--', 'true']), true);
    assert.equal(qualifies(['--unshare-all', '--seccomp', '4', '--', 'true']), false, '--die-with-parent is required');
    assert.equal(qualifies(['--unshare-all', '--seccomp', '4', '--', 'echo', '--die-with-parent']), false, '--die-with-parent as an option, not in the command');
    assert.equal(qualifies(['--die-with-parent', '--seccomp', '4', '--seccomp', '4', '--', 'true']), false, 'one gate');
    // Copies: fds numbered in order from 6, of regular files that exist now, read-only.
    const gate = ['--die-with-parent', '--seccomp', '4'];
    assert.equal(qualifies([...gate, '--perms', '0444', '--file', '6', '/etc/passwd', '--perms', '0444', '--file', '7', '/etc/group', '--', 'true']), true);
    assert.equal(qualifies([...gate, '--file', '7', '/etc/passwd', '--', 'true']), false, 'out of order');
    assert.equal(qualifies([...gate, '--file', '6', join(fx.root, 'no-such-file'), '--', 'true']), false, 'a file that is not there');
    assert.equal(qualifies([...gate, '--file', '6', '/etc', '--', 'true']), false, 'a directory');
    assert.equal(qualifies([...gate, '--perms', '0666', '--file', '6', '/etc/passwd', '--', 'true']), false, 'writable');
  });
});
