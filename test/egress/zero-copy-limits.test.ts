/**
 * The zero-copy relay at the edges of its resources, each case in a child
 * process (test/egress/zero-copy-child.ts), so a crash ends the child, not
 * the test runner: descriptors exhausted (`prlimit --nofile`), relay handles
 * garbage-collected while relays run (`--expose-gc`), a throwing callback,
 * and a user over the pipe quota (F_SETPIPE_SZ refused).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { zeroCopyStatus } from '../../src/egress/zero-copy.js';

const status = zeroCopyStatus();
const skip = status.available ? false : `the zero-copy addon is not available: ${status.reason}`;
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const CHILD = path.join(here, 'zero-copy-child.ts');

/** The child's environment: the test's, without the CA variable that slows every start (and CORDON_NO_SPLICE). */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.CORDON_NO_SPLICE;
  return env;
}

/** Runs argv (never a shell), returns its JSON line; the process must exit 0 within `ms`. */
function runChild(argv: readonly string[], ms = 60_000, env: NodeJS.ProcessEnv = childEnv()): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const [cmd = '', ...args] = argv;
    const c = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), ms);
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${argv.join(' ')}: exit ${code ?? signal ?? '?'}\n${err.slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Record<string, unknown>);
      } catch {
        reject(new Error(`no JSON from the child: ${out.slice(-500)}\n${err.slice(-2000)}`));
      }
    });
  });
}

const node = (...flags: string[]): string[] => [process.execPath, ...flags, '--import', 'tsx', CHILD];
const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;

void describe('zero-copy relay: resource limits and lifetimes (child processes)', () => {
  void it('descriptors exhausted (prlimit --nofile=256): tunnels and bodies complete in JavaScript, nothing leaks', { skip: skip || (hasPrlimit ? false : 'prlimit (util-linux) is not installed'), timeout: 90_000 }, async () => {
    const r = await runChild(['prlimit', '--nofile=256:256', ...node(), 'fds'], 80_000);
    const rounds = r.rounds as { free: number; tunnel: string; http: string; relays: number; fdsBefore: number; fdsAfter: number }[];
    assert.equal(rounds.length, 6);
    for (const x of rounds) {
      assert.equal(x.tunnel, 'ok', `tunnel with ${x.free} descriptors free`);
      assert.equal(x.http, 'ok', `download with ${x.free} descriptors free`);
      // The first round leaves the proxy's pooled upstream connection (and the upstream's side of it) open.
      if (x.free > 0) assert.equal(x.fdsAfter, x.fdsBefore, `descriptors after the round with ${x.free} free`);
    }
    // With 0-2 free no relay can start (it needs two dup()s and a pipe): the JavaScript path carried everything.
    for (const x of rounds.filter((y) => y.free <= 2)) assert.equal(x.relays, 0, `relays with ${x.free} free`);
    assert.ok(rounds.some((x) => x.relays > 0), 'with descriptors to spare the relay ran');
  });

  void it('relay handles collected while their relays run (--expose-gc): every relay completes, no pipe left', { skip, timeout: 60_000 }, async () => {
    const r = await runChild([...node('--expose-gc'), 'gc']);
    assert.deepEqual(r.results, Array.from({ length: 16 }, () => 'ok'));
    assert.equal(r.collected, 16, 'the handles were collected while the relays ran (the test means something)');
    assert.equal(r.pipesAfter, r.pipesBefore, 'every relay pipe closed');
    assert.ok((r.fdsAfter as number) <= (r.fdsBefore as number), 'no descriptor left by the relays');
  });

  void it('an onDone callback that throws is reported (warning), not fatal; the bytes still arrive', { skip, timeout: 60_000 }, async () => {
    const r = await runChild([...node(), 'throw']);
    assert.deepEqual(r, { started: true, called: 1, ok: true, caught: 1, warnings: ['CORDON_RELAY_CALLBACK'] });
  });

  void it('a relay of exactly max bytes whose last write uses up its per-wake-up budget finishes (source left open)', { timeout: 90_000 }, async (t) => {
    // The addon's source built with a 64 KiB budget (8 MiB in the real build: the same path, hit only by long
    // wake-ups): every write of the 1 MiB pipe crosses it. It used to wait for the source to become readable again.
    const include = path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node');
    const headers = [include, '/usr/include/node'].find((d) => existsSync(path.join(d, 'node_api.h')));
    const cc = spawnSync('cc', ['--version']).status === 0;
    if (process.platform !== 'linux' || headers === undefined || !cc) {
      t.skip(process.platform !== 'linux' ? 'not Linux' : headers === undefined ? 'the Node headers (node_api.h) are not installed' : 'no C compiler (cc)');
      return;
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'cordon-splice-budget-'));
    try {
      const out = path.join(dir, 'small-budget.node');
      const built = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-DNAPI_VERSION=8', '-DBUDGET=65536u', `-I${headers}`, '-o', out, path.join(root, 'native', 'splice', 'splice.c')], { encoding: 'utf8' });
      assert.equal(built.status, 0, built.stderr);
      const r = await runChild([...node(), 'budget', out]);
      assert.deepEqual(r, { results: ['moved max', 'moved max'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it('a user over the pipe quota (F_SETPIPE_SZ refused, 8 KiB pipes): the relay still moves 4 MiB exactly', { skip, timeout: 60_000 }, async (t) => {
    const knob = '/proc/sys/fs/pipe-user-pages-soft';
    const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const why = process.getuid?.() !== 0 ? 'not root (cannot lower the pipe quota or change user)' : spawnSync('setpriv', ['--version']).status !== 0 ? 'setpriv (util-linux) is not installed' : !existsSync(knob) ? `${knob} is missing` : spawnSync(asNobody[0] ?? '', [...asNobody.slice(1), 'test', '-r', CHILD]).status !== 0 ? `user 65534 cannot read ${CHILD}` : undefined;
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const old = readFileSync(knob, 'utf8').trim();
    try {
      // 1 page: every non-root user is over it, so its new pipes get 2 pages and F_SETPIPE_SZ is refused (EPERM).
      // Root's processes (the other work on this machine) are not limited by it. Restored below whatever happens.
      writeFileSync(knob, '1');
      if (existsSync('/usr/bin/python3')) {
        const check = spawnSync(asNobody[0] ?? '', [...asNobody.slice(1), '/usr/bin/python3', '-c', 'import os,fcntl\nr,w=os.pipe()\ntry: fcntl.fcntl(w, 1031, 1<<20); print("set")\nexcept OSError as e: print(e.errno)'], { encoding: 'utf8' });
        assert.equal(check.stdout.trim(), '1', 'F_SETPIPE_SZ is refused with EPERM for this user (the case under test)');
      } else t.diagnostic('/usr/bin/python3 missing: the refusal of F_SETPIPE_SZ is not checked, only the relay');
      const r = await runChild([...asNobody, 'env', 'HOME=/tmp', ...node(), 'relay']);
      assert.deepEqual(r, { end: 'moved 4194304', ok: true, uid: 65534 });
    } finally {
      writeFileSync(knob, old);
    }
    assert.equal(readFileSync(knob, 'utf8').trim(), old, 'the pipe quota is restored');
  });
});
