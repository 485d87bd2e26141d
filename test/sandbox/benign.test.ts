/** Benign suite: ordinary development work must keep working inside the default sandbox (real bwrap). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runSandboxed } from '../../src/sandbox/runner.js';
import { checkHost } from '../../src/sandbox/doctor.js';
import { bwrapUnavailable, type Fixture, makeFixture, newWorkspace, runCapture, specFor } from './helpers.js';

const skip = bwrapUnavailable();
let fx: Fixture;
let tarball = '';

void describe('benign suite (default sandbox, real bwrap)', { concurrency: 6 }, () => {
  before(() => {
    if (skip !== undefined) return;
    fx = makeFixture();
    const pkg = join(fx.root, 'tiny-pkg');
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'tiny-pkg', version: '1.0.0', main: 'index.js' }));
    writeFileSync(join(pkg, 'index.js'), 'module.exports = () => 42;\n');
    const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', fx.root], { cwd: pkg, encoding: 'utf8' });
    tarball = join(fx.root, out.trim().split('\n').pop() ?? '');
  });
  after(() => {
    if (skip !== undefined) return;
    rmSync(fx.root, { recursive: true, force: true });
  });

  const ok = async (sh: string, ws?: string, extraReadOnly: string[] = []): Promise<string> => {
    const w = ws ?? newWorkspace(fx);
    const spec = specFor(w);
    const r = await runCapture({ ...spec, readOnly: [...spec.readOnly, ...extraReadOnly] }, ['sh', '-c', sh]);
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
    assert.deepEqual(r.violations, []);
    return r.stdout;
  };

  void it('git init, add, commit in a fresh workspace', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const ws = join(fx.root, 'fresh');
    mkdirSync(ws);
    const out = await ok('git init -q && echo hi > f.txt && git add f.txt && git -c user.name=a -c user.email=a@b commit -qm first && git log --oneline | wc -l', ws);
    assert.equal(out.trim(), '1');
    assert.match(readFileSync(join(ws, '.git/config'), 'utf8'), /repositoryformatversion/);
  });
  void it('git commit in an existing repo', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    await ok('git add README.md && git -c user.name=a -c user.email=a@b commit -qm c && git status --short');
  });
  void it('npm install from a local tarball', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const out = await ok(
      `echo '{"name":"app","version":"1.0.0"}' > package.json && npm install --offline --no-audit --no-fund --silent ${tarball} && node -e 'console.log(require("tiny-pkg")())'`,
      undefined,
      [tarball],
    );
    assert.equal(out.trim().split('\n').pop(), '42');
  });
  void it('node and python scripts', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const out = await ok(`node -e 'console.log(1+1)' && python3 -c 'print(3*3)'`);
    assert.equal(out, '2\n9\n');
  });
  void it('mktemp, HOME and TMPDIR are private and writable', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const out = await ok('f=$(mktemp) && echo x > "$f" && d=$(mktemp -d) && touch ~/.x && ls -A ~ && echo "$HOME" "$TMPDIR"');
    assert.match(out, /^\.x\n\S+\/home \S+\/tmp\n$/);
  });
  void it('writing build output', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const ws = newWorkspace(fx);
    await ok('mkdir -p dist && echo "out" > dist/app.js && cp README.md dist/', ws);
    assert.equal(readFileSync(join(ws, 'dist/app.js'), 'utf8'), 'out\n');
  });
  void it('returns the command exit status and deletes the private dirs', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const r = await runCapture(specFor(newWorkspace(fx)), ['sh', '-c', 'echo $HOME; exit 7']);
    assert.equal(r.exitCode, 7);
    assert.throws(() => readFileSync(r.stdout.trim()), /ENOENT|EISDIR/);
  });
  void it('127 for a missing command, 126 for a non-executable one', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const ws = newWorkspace(fx);
    assert.equal((await runCapture(specFor(ws), ['no-such-cmd'])).exitCode, 127);
    assert.equal((await runCapture(specFor(ws), ['./README.md'])).exitCode, 126);
    assert.equal((await runCapture(specFor(ws), ['/root/.bashrc'])).exitCode, 127);
  });
  void it('125 with a clear error when bwrap is missing', async () => {
    const r = await runSandboxed(specFor('/tmp'), ['true'], { bwrapPath: '/nonexistent/bwrap', stdio: ['ignore', 'ignore', 'ignore'] });
    assert.equal(r.exitCode, 125);
    const results = await checkHost({ path: '/nonexistent' });
    assert.equal(results[0]?.ok, false);
    assert.match(results[0]?.fix ?? '', /apt-get install -y bubblewrap/);
  });
  void it('abort signal terminates the sandboxed process group', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const started = Date.now();
    const r = await runSandboxed(specFor(newWorkspace(fx)), ['sh', '-c', 'trap "exit 42" TERM; sleep 10 & wait'], { signal: ac.signal, stdio: ['ignore', 'ignore', 'ignore'] });
    assert.equal(r.exitCode, 42);
    assert.ok(Date.now() - started < 5000);
  });
});
