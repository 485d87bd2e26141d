/** `cordon run` end to end: real bwrap, real files, the exit-status contract and the audit trail. */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { cordon, ROOT } from './cli-helpers.js';

const BIN_CORDON = path.join(ROOT, 'bin', 'cordon');
const BIN_ENTRY = path.join(ROOT, 'dist', 'bin', 'run.cjs');
const bwrap = ['/usr/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));
const skip = bwrap ? false : 'bubblewrap is not installed (apt-get install -y bubblewrap)';

function setup(): { ws: string; state: string; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-run-'));
  const ws = path.join(root, 'ws');
  const state = path.join(root, 'state');
  mkdirSync(ws);
  return { ws, state, env: { XDG_STATE_HOME: state, GITHUB_TOKEN: 'ghp_' + 'a'.repeat(36), CORDON_TEST_HARMLESS: '1' } };
}

void describe('cordon run', { skip }, () => {
  void it('returns the command\'s own status, 127 when not found, 126 when not executable', () => {
    const { ws, env } = setup();
    writeFileSync(path.join(ws, 'data.txt'), 'x');
    assert.equal(cordon(['run', '--', 'true'], { cwd: ws, env }).status, 0);
    assert.equal(cordon(['run', '--', 'sh', '-c', 'exit 7'], { cwd: ws, env }).status, 7);
    assert.equal(cordon(['run', '--', 'no-such-command-xyz'], { cwd: ws, env }).status, 127);
    assert.equal(cordon(['run', '--', './data.txt'], { cwd: ws, env }).status, 126);
  });

  void it('exits 125 on a broken policy, with the positioned error, and runs nothing', () => {
    const { ws, env } = setup();
    writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\npermissions:\n  allow: ["Nett(x)"]\n');
    const r = cordon(['run', '--', 'sh', '-c', 'touch ran'], { cwd: ws, env });
    assert.equal(r.status, 125);
    assert.match(r.stderr, /cordon\.yaml:3:11: permissions\.allow\[0\]: unknown rule kind 'Nett'; did you mean 'Net'\?/);
    assert.equal(existsSync(path.join(ws, 'ran')), false);
  });

  void it('never records a credential typed on the command line', () => {
    const { ws, state, env } = setup();
    const token = 'ghp_' + 'Z9'.repeat(18);
    const r = cordon(['run', '--', 'sh', '-c', 'true', 'x', `--token=${token}`], { cwd: ws, env });
    assert.equal(r.status, 0, r.stderr);
    const logs = readdirSync(path.join(state, 'cordon')).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(path.join(state, 'cordon', f), 'utf8')).join('');
    assert.match(logs, /"subject":"Run\(sh -c true x \[redacted: 48 chars\]\)"/);
    assert.ok(!logs.includes(token));
  });

  void it('records the decisions a hook inside the sandbox logged, marked unverified; never follows a planted symlink', () => {
    const { ws, state, env } = setup();
    const hookRecord = JSON.stringify({ seq: 1, ts: '2026-11-22T10:00:00.000Z', session: 's_00aa', boundary: 'hook', subject: 'Bash(git push --force)', decision: 'deny', rule: 'deny Bash(git push --force*) project', reason: 'force push', prev: '0'.repeat(64) });
    const notHook = hookRecord.replace('"boundary":"hook"', '"boundary":"egress"').replace('Bash(git push --force)', 'Net(forged.example)');
    // A record-shaped file outside the sandbox (invisible inside): a symlink to it must not be followed.
    const outside = path.join(path.dirname(ws), 'outside-secret.jsonl');
    writeFileSync(outside, `${hookRecord.replace('Bash(git push --force)', 'Read(canary-outside-7788)')}\n`);
    const script = [
      'd="$XDG_STATE_HOME/cordon"; mkdir -p "$d"',
      `printf '%s\\n%s\\nnot json\\n' '${hookRecord}' '${notHook}' > "$d/s_00aa.jsonl"`,
      `ln -s ${outside} "$d/s_00bb.jsonl"`,
    ].join('; ');
    const r = cordon(['run', '--', 'sh', '-c', script], { cwd: ws, env });
    assert.equal(r.status, 0, r.stderr);
    const logs = readdirSync(path.join(state, 'cordon')).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(path.join(state, 'cordon', f), 'utf8')).join('');
    assert.match(logs, /"boundary":"hook","subject":"Bash\(git push --force\)","decision":"deny".*reported by the hook inside the sandbox \(not verified by cordon\): force push/);
    const records = logs.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { boundary: string; subject: string });
    const imported = records.filter((x) => x.boundary !== 'supervisor');
    assert.deepEqual(imported.map((x) => `${x.boundary} ${x.subject}`), ['hook Bash(git push --force)'], 'only hook records are taken');
    assert.doesNotMatch(logs, /canary-outside/, 'the symlink was not followed');
  });

  void it('scrubs credentials from the environment', () => {
    const { ws, env } = setup();
    const r = cordon(['run', '--', 'sh', '-c', 'env'], { cwd: ws, env });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /GITHUB_TOKEN|ghp_/);
    assert.match(r.stdout, /^PATH=/m);
  });

  void it('hides a denied workspace file, refuses a protected write, records both sides', () => {
    const { ws, state, env } = setup();
    writeFileSync(path.join(ws, '.env'), 'API_KEY=canary-1234567890\n');
    const r = cordon(['run', '--', 'sh', '-c', 'cat .env; mkdir -p .claude && echo pwned > .claude/settings.json; echo ok > build.txt'], { cwd: ws, env });
    assert.doesNotMatch(r.stdout, /canary/);
    assert.equal(readFileSync(path.join(ws, 'build.txt'), 'utf8'), 'ok\n', 'benign write works');
    assert.equal(existsSync(path.join(ws, '.claude', 'settings.json')), false, 'protected file did not stay');
    const m = /cordon: (\d+) actions? blocked \(cordon audit tail (s_[0-9a-f]+)\)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    const logDir = path.join(state, 'cordon');
    const files = readdirSync(logDir).filter((f) => f.endsWith('.jsonl'));
    assert.equal(files.length, 1);
    const log = readFileSync(path.join(logDir, files[0] ?? ''), 'utf8');
    assert.match(log, /"boundary":"sandbox".*"decision":"deny".*Edit\(.*\.claude/);
    assert.doesNotMatch(log, /canary/);
    const v = cordon(['audit', 'verify', m[2] ?? ''], { env });
    assert.equal(v.status, 0, v.stderr + v.stdout);
  });

  void it('the built entry point (bin/cordon run) reuses a cached plan and sees a policy change at once', { skip: existsSync(BIN_ENTRY) ? false : 'dist/bin/run.cjs is not built (npm run build)' }, () => {
    const { ws, state, env } = setup();
    const run = (args: string[]): ReturnType<typeof spawnSync> => spawnSync(BIN_CORDON, ['run', ...args], {
      cwd: ws, encoding: 'utf8', timeout: 60_000,
      env: { ...process.env, CORDON_MANAGED_POLICY: '/nonexistent/cordon-managed.yaml', XDG_CONFIG_HOME: '/nonexistent/xdg', ...env },
    });
    writeFileSync(path.join(ws, 'notes.txt'), 'canary-notes-5551212\n');
    const first = run(['--', 'cat', 'notes.txt']);
    assert.equal(first.status, 0, String(first.stderr));
    assert.match(String(first.stdout), /canary-notes/);
    const cache = path.join(state, 'cordon', 'cache');
    assert.equal(readdirSync(cache).filter((f) => f.startsWith('plan-')).length, 1, 'the first run cached its plan');
    // The second run is served from the cached plan; the command's status and a violation's record are as before.
    const second = run(['--', 'sh', '-c', 'mkdir -p .claude && echo x > .claude/settings.json; exit 9']);
    assert.equal(second.status, 9);
    assert.match(String(second.stderr), /cordon: 1 action blocked/);
    assert.equal(existsSync(path.join(ws, '.claude', 'settings.json')), false);
    const logs = readdirSync(path.join(state, 'cordon')).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(path.join(state, 'cordon', f), 'utf8')).join('');
    assert.match(logs, /"boundary":"sandbox".*"decision":"deny".*"rule":"deny Edit\(.*mandatory\)"/);
    // A changed policy is a new key: the file is hidden at once.
    writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\npermissions:\n  deny: ["Read(./notes.txt)"]\n');
    const third = run(['--', 'sh', '-c', 'cat notes.txt; true']);
    assert.equal(third.status, 0, String(third.stderr));
    assert.doesNotMatch(String(third.stdout), /canary-notes/);
    assert.equal(readdirSync(cache).filter((f) => f.startsWith('plan-')).length, 2);
    // The first command line again: its remembered sandbox (notes.txt visible) is spawned early and must not be used.
    const again = run(['--', 'cat', 'notes.txt']);
    assert.equal(again.status, 1, String(again.stderr));
    assert.doesNotMatch(String(again.stdout), /canary-notes/);
    assert.equal(String(again.stderr).trim(), 'cat: notes.txt: Permission denied', 'the abandoned sandbox ran nothing and said nothing');
    // Unchanged, it is used (the early sandbox and the code cache exist for this build).
    const twice = [run(['--', 'sh', '-c', 'echo x >> runs.log']), run(['--', 'sh', '-c', 'echo x >> runs.log'])];
    for (const r of twice) assert.equal(r.status, 0, String(r.stderr));
    assert.equal(readFileSync(path.join(ws, 'runs.log'), 'utf8'), 'x\nx\n', 'the command ran once per run');
    assert.ok(readdirSync(cache).some((f) => f.startsWith('early-')), 'runs remember their sandbox argv');
    assert.ok(readdirSync(cache).some((f) => f.startsWith('run-') && f.endsWith('.v8')), 'a run served by run.cjs left a code cache');
    // Shapes the small parser leaves alone go to the full program.
    const help = run(['--help']);
    assert.equal(help.status, 0);
    assert.match(String(help.stdout), /Usage: cordon run/);
  });

  void it('exits 125 instead of hanging when the fast path fails after its early sandbox was spawned, and runs nothing', { skip: existsSync(BIN_ENTRY) ? false : 'dist/bin/run.cjs is not built (npm run build)' }, () => {
    const { ws, state, env } = setup();
    const fullEnv = { ...process.env, CORDON_MANAGED_POLICY: '/nonexistent/cordon-managed.yaml', XDG_CONFIG_HOME: '/nonexistent/xdg', ...env };
    const argv = ['run', '--', 'sh', '-c', 'echo ran >> runs.log'];
    // A run remembers its sandbox argv: the next run of this command line spawns bubblewrap from it before anything else.
    // (The first run caches the plan; the second, served by run.cjs, remembers its argv.)
    for (let i = 0; i < 2; i++) {
      const r = spawnSync(BIN_CORDON, argv, { cwd: ws, encoding: 'utf8', timeout: 60_000, env: fullEnv });
      assert.equal(r.status, 0, String(r.stderr));
    }
    assert.ok(readdirSync(path.join(state, 'cordon', 'cache')).some((f) => f.startsWith('early-')), 'the argv was remembered');
    // The same bundle installed without its built-in profiles: the plan lookup throws after the early spawn.
    const copy = path.join(path.dirname(ws), 'broken-install', 'dist', 'bin');
    mkdirSync(copy, { recursive: true });
    for (const f of ['run-loader.cjs', 'run.cjs', 'build-id']) writeFileSync(path.join(copy, f), readFileSync(path.join(ROOT, 'dist', 'bin', f)));
    const t0 = Date.now();
    const broken = spawnSync(process.execPath, [path.join(copy, 'run-loader.cjs'), ...argv], { cwd: ws, encoding: 'utf8', timeout: 30_000, env: fullEnv });
    assert.equal(broken.error, undefined, `the run hung (${String(broken.error)})`);
    assert.equal(broken.status, 125, String(broken.stderr));
    assert.match(String(broken.stderr), /cordon: internal error: .*profiles/);
    assert.ok(Date.now() - t0 < 20_000);
    assert.equal(readFileSync(path.join(ws, 'runs.log'), 'utf8'), 'ran\nran\n', 'the early sandbox never ran the command');
  });

  const asRoot = process.getuid?.() === 0;
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  void it('works for an ordinary user too (dropped to nobody)', {
    skip: !asRoot ? 'the suite is not running as root, so it already runs as an ordinary user' : setpriv === undefined ? 'setpriv (util-linux) is not installed' : !existsSync(BIN_ENTRY) ? 'dist/bin/run.cjs is not built (npm run build)' : false,
  }, (t) => {
    const probe = spawnSync(setpriv ?? 'setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'unshare', '-U', 'true'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      t.skip(`unprivileged user namespaces are not available to ordinary users here (${probe.stderr.trim()}); see cordon doctor`);
      return;
    }
    const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-user-'));
    chmodSync(root, 0o755);
    const ws = path.join(root, 'ws');
    const home = path.join(root, 'home');
    mkdirSync(ws);
    mkdirSync(home);
    chownSync(ws, 65534, 65534);
    chownSync(home, 65534, 65534);
    const r = spawnSync(setpriv ?? 'setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'env', '-i', 'PATH=/usr/bin:/bin', `HOME=${home}`, `GITHUB_TOKEN=ghp_${'b'.repeat(36)}`,
      BIN_CORDON, 'run', '--', 'sh', '-c', 'id -u; echo ok > built.txt; env | grep -c ghp_; exit 3'], { cwd: ws, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 3, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['65534', '0']);
    assert.equal(statSync(path.join(ws, 'built.txt')).uid, 65534);
    assert.equal(readdirSync(path.join(home, '.local', 'state', 'cordon')).filter((f) => f.endsWith('.jsonl')).length, 1, 'the session log is in the user\'s own state dir');
  });
});
