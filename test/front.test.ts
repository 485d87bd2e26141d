/**
 * bin/cordon's front (native/front): `cordon run` through it returns the run's
 * own status, passes signals on, mirrors a supervisor killed by a signal, and
 * lets no inherited fd (its own pipe included) reach the sandbox. Real
 * processes: bin/cordon, the built front, node, bwrap.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync, type SpawnSyncReturns, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './cli-helpers.js';
import { childrenOf, waitFor } from './process-helpers.js';

const BIN_CORDON = path.join(ROOT, 'bin', 'cordon');
const FRONT = path.join(ROOT, 'native', 'front', 'build', 'cordon-front');
const bwrap = ['/usr/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));
const built = existsSync(path.join(ROOT, 'dist', 'bin', 'run-loader.cjs'));
const frontBuilt = existsSync(FRONT);
// In CI the front must have been built by `npm ci` (the install script): there a missing front fails the suite.
const skip = !bwrap ? 'bubblewrap is not installed (apt-get install -y bubblewrap)'
  : !built ? 'dist/ is not built (npm run build)'
  : !frontBuilt && process.env['CI'] !== 'true' ? 'native/front was not built (npm run build:native; needs a C compiler)' : false;

function setup(): { ws: string; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-front-'));
  const ws = path.join(root, 'ws');
  mkdirSync(ws);
  const { NODE_EXTRA_CA_CERTS: _ca, ...env } = process.env;
  return { ws, env: { ...env, XDG_STATE_HOME: path.join(root, 'state'), CORDON_MANAGED_POLICY: '/nonexistent/m.yaml', XDG_CONFIG_HOME: '/nonexistent/xdg' } };
}

function run(args: readonly string[], ws: string, env: NodeJS.ProcessEnv, stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(BIN_CORDON, ['run', ...args], { cwd: ws, env, stdio, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Processes whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'latin1').includes(marker)) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

/** `cordon run` of a long sleep (its duration is the marker that finds it in /proc), resolved once the command started. */
async function startSleeper(seconds: string): Promise<{ child: ChildProcess; marker: string; done: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
  const { ws, env } = setup();
  const marker = `${seconds}${String(process.pid % 1000).padStart(3, '0')}.25`;
  const child = spawn(BIN_CORDON, ['run', '--', 'sh', '-c', `touch started; sleep ${marker}`], { cwd: ws, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  assert.ok(await waitFor(() => existsSync(path.join(ws, 'started')), 20_000), 'the command started');
  return { child, marker, done };
}

void describe('bin/cordon run through native/front', { skip }, () => {
  void it('the front is built (CI builds it in npm ci)', () => {
    assert.ok(frontBuilt, `${FRONT} is missing: npm ci runs scripts/build-front.mjs`);
  });

  void it('returns the run\'s own status: the command\'s, 127, and 125 for a broken policy', () => {
    const { ws, env } = setup();
    assert.equal(run(['--', 'true'], ws, env).status, 0);
    assert.equal(run(['--', 'sh', '-c', 'exit 7'], ws, env).status, 7);
    assert.equal(run(['--', 'no-such-command-xyz'], ws, env).status, 127);
    // The output is complete when the status arrives (the streams are closed first, never cut).
    const big = run(['--', 'sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done'], ws, env);
    assert.equal(big.status, 0, big.stderr);
    assert.equal(big.stdout.split('\n').filter((l) => l.startsWith('line-')).length, 2000);
    writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\npermissions:\n  allow: ["Nett(x)"]\n');
    const broken = run(['--', 'true'], ws, env);
    assert.equal(broken.status, 125);
    assert.match(broken.stderr, /unknown rule kind 'Nett'/);
  });

  for (const front of ['1', '0']) {
    void it(`no inherited fd reaches the sandbox: a pipe and a directory outside it (CORDON_FRONT=${front})`, () => {
      const { ws, env } = setup();
      const outside = mkdtempSync(path.join(os.tmpdir(), 'cordon-front-outside-'));
      writeFileSync(path.join(outside, 'secret.txt'), 'canary-front-4471');
      const dirFd = openSync(outside, 'r');
      try {
        // fd 40: a pipe the test reads; fd 41: a directory outside the sandbox (openat from it would walk out).
        // Numbers above those bubblewrap's own fds (3 to 6 + copied files) take, which would mask a leak.
        const script = 'echo leaked > /proc/self/fd/40; cat /proc/self/fd/41/secret.txt; ls /proc/self/fd/41/; echo fds: $(ls /proc/self/fd | tr "\\n" " "); env';
        const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(37).fill('ignore'), 'pipe', dirFd];
        // Twice: the first run compiles the policy (the full program), the second is served by the fast path.
        for (const pass of ['first run', 'cached plan']) {
          const r: SpawnSyncReturns<string> = spawnSync(BIN_CORDON, ['run', '--', 'sh', '-c', script], { cwd: ws, env: { ...env, CORDON_FRONT: front }, stdio, encoding: 'utf8', timeout: 60_000 });
          assert.equal(r.status, 0, `${pass}: ${r.stderr}`);
          const fd40 = (r.output[40] as string | null) ?? '';
          assert.equal(fd40, '', `${pass}: the test's end of fd 40 received nothing`);
          assert.ok(!r.stdout.includes('canary-front-4471'), r.stdout);
          assert.ok(!r.stdout.includes('secret.txt'), r.stdout);
          assert.match(r.stderr, /cannot create \/proc\/self\/fd\/40/);
          // ls opens the directory it lists (fd 3 in its own process), nothing else is open.
          const fds = /fds: ([\d ]+)/.exec(r.stdout)?.[1]?.trim().split(' ') ?? [];
          assert.deepEqual(fds.filter((f) => Number(f) > 3), [], `${pass}: ${r.stdout}`);
          assert.ok(!/CORDON_EXIT_FD/.test(r.stdout), 'the front\'s variable does not reach the sandbox');
        }
      } finally {
        closeSync(dirFd);
      }
    });
  }

  // A terminal's Ctrl-C goes to its whole foreground process group. Before, bubblewrap was in it and died of the
  // SIGINT, taking the command with it: status 125, "bubblewrap failed". Now bwrap is spawned in a session of its
  // own (as the sandbox is), and the supervisor passes the SIGINT to the command, which can handle it.
  const python = spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' }).status === 0;
  for (const front of ['1', '0']) {
    void it(`a Ctrl-C typed at the terminal reaches the command, which handles it (CORDON_FRONT=${front})`, { skip: python ? false : 'python3 (for a pseudo-terminal) is not installed' }, () => {
      const { ws, env } = setup();
      const driver = [
        'import os, pty, select, sys, time',
        'ws, front, cordon = sys.argv[1], sys.argv[2], sys.argv[3]',
        'pid, fd = pty.fork()',
        'if pid == 0:',
        '    os.chdir(ws); os.environ["CORDON_FRONT"] = front',
        '    os.execv(cordon, ["cordon", "run", "--", "sh", "-c", "trap \'echo got-int; exit 3\' INT; touch started; sleep 30 & wait"])',
        'end = time.time() + 20',
        'while not os.path.exists(os.path.join(ws, "started")) and time.time() < end: time.sleep(0.02)',
        'time.sleep(0.3)',
        'os.write(fd, b"\\x03")',
        'out = b""',
        'end = time.time() + 15',
        'while time.time() < end:',
        '    r, _, _ = select.select([fd], [], [], 0.1)',
        '    if r:',
        '        try: out += os.read(fd, 4096)',
        '        except OSError: pass',
        '    done, st = os.waitpid(pid, os.WNOHANG)',
        '    if done: break',
        'else:',
        '    os.kill(pid, 9); done, st = os.waitpid(pid, 0)',
        'print("status", os.waitstatus_to_exitcode(st)); print(out.decode("latin1"))',
      ].join('\n');
      // Twice: a fresh sandbox, then the early one (spawned from the remembered argv).
      for (const pass of ['first run', 'second run']) {
        rmSync(path.join(ws, 'started'), { force: true });
        const r = spawnSync('python3', ['-c', driver, ws, front, BIN_CORDON], { env, encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^status 3$/m, `${pass}: ${r.stdout}`);
        assert.match(r.stdout, /got-int/, pass);
        assert.doesNotMatch(r.stdout, /bubblewrap failed/, pass);
      }
    });
  }

  void it('passes SIGTERM on to the run, which ends with its status and leaves nothing running', async () => {
    const { child, marker, done } = await startSleeper('3');
    assert.ok(childrenOf(child.pid ?? 0).length > 0, 'bin/cordon is the front, with the supervisor as its child');
    child.kill('SIGTERM');
    assert.deepEqual(await done, { code: 143, signal: null });
    assert.ok(await waitFor(() => processesWith(marker).length === 0, 5_000), 'the sandboxed command is gone');
  });

  void it('mirrors a supervisor killed by a signal, and the sandbox dies with it', async () => {
    const { child, marker, done } = await startSleeper('4');
    const [supervisor] = childrenOf(child.pid ?? 0);
    assert.ok(supervisor !== undefined && readFileSync(`/proc/${supervisor}/cmdline`, 'latin1').includes('run-loader.cjs'), 'the front\'s child is the supervisor');
    process.kill(supervisor, 'SIGKILL');
    assert.deepEqual(await done, { code: null, signal: 'SIGKILL' });
    assert.ok(await waitFor(() => processesWith(marker).length === 0, 5_000), 'the sandboxed command died with the supervisor');
  });
});
