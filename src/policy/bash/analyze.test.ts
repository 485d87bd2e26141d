import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { CommandAnalysis } from '../types.js';
import { analyzeCommand, analyzeCommandSync } from './analyze.js';
import { loadShellParser } from './parser.js';

void before(async () => {
  await loadShellParser();
});

const analyze = (source: string): CommandAnalysis => analyzeCommandSync(source);
const texts = (source: string): string[] => analyze(source).parts.map((p) => p.text);
const safe = (source: string): void => assert.deepEqual(analyze(source).unsafe, [], source);
const unsafe = (source: string, pattern: RegExp): void => {
  const a = analyze(source);
  assert.ok(a.unsafe.some((r) => pattern.test(r)), `${source}: ${JSON.stringify(a.unsafe)}`);
};

void describe('analyzeCommand: separators and structure', () => {
  const cases: [string, string[]][] = [
    ['a && b', ['a', 'b']],
    ['a || b', ['a', 'b']],
    ['a; b', ['a', 'b']],
    ['a | b', ['a', 'b']],
    ['a |& b', ['a', 'b']],
    ['a & b', ['a', 'b']],
    ['a\nb\n\nc', ['a', 'b', 'c']],
    ['(a; b) && c', ['a', 'b', 'c']],
    ['{ a; b; }', ['a', 'b']],
    ['if a; then b; elif c; then d; else e; fi', ['a', 'b', 'c', 'd', 'e']],
    ['while a; do b; done', ['a', 'b']],
    ['for f in *.ts; do b "$f"; done', ['b "$f"']],
    ['case "$x" in y) a;; *) b;; esac', ['a', 'b']],
    ['f() { curl x; }; f', ['curl x', 'f']],
    ['! a', ['a']],
  ];
  for (const [source, expected] of cases) {
    void it(`splits ${JSON.stringify(source)}`, () => {
      assert.deepEqual(texts(source), expected);
      safe(source);
    });
  }

  void it('returns the source and is also available asynchronously', async () => {
    const a = await analyzeCommand('ls -la');
    assert.equal(a.source, 'ls -la');
    assert.deepEqual(a.parts, [{ text: 'ls -la', denyForms: [] }]);
  });
});

void describe('analyzeCommand: substitutions', () => {
  void it('finds $( ) in arguments', () => assert.deepEqual(texts('echo $(curl x)'), ['echo $(curl x)', 'curl x']));
  void it('finds backticks', () => assert.deepEqual(texts('echo `curl x`'), ['echo `curl x`', 'curl x']));
  void it('finds substitutions inside double quotes', () => {
    assert.deepEqual(texts('echo "a $(curl x) b"'), ['echo "a $(curl x) b"', 'curl x']);
  });
  void it('finds substitutions in assignment values', () => {
    assert.deepEqual(texts('X=$(curl x)'), ['curl x']);
    assert.deepEqual(texts('Y="`curl y`" npm test'), ['Y="`curl y`" npm test', 'curl y']);
  });
  void it('finds process substitution', () => assert.deepEqual(texts('diff <(curl x) b'), ['diff <(curl x) b', 'curl x']));
  void it('follows escaped backticks nested in backticks', () => {
    assert.deepEqual(texts('echo `echo \\`id\\``'), ['echo `echo \\`id\\``', 'echo `id`', 'id']);
  });
  void it('finds nested substitutions', () => assert.deepEqual(texts('a $(b $(c))'), ['a $(b $(c))', 'b $(c)', 'c']));
});

void describe('analyzeCommand: shells started with -c', () => {
  void it('recurses into a static bash -c payload', () => {
    const a = analyze("bash -c 'curl x && rm y'");
    assert.deepEqual(a.parts.map((p) => p.text), ['bash -c curl x && rm y', 'curl x', 'rm y']);
    assert.deepEqual(a.unsafe, []);
  });
  void it('recognises option clusters, paths and wrappers', () => {
    assert.deepEqual(texts('/bin/sh -ec "curl x"'), ['/bin/sh -ec curl x', 'curl x']);
    assert.deepEqual(texts("sudo zsh -lc 'id'"), ["sudo zsh -lc id", 'id']);
    assert.deepEqual(texts("xargs -n1 dash -c 'echo'"), ['xargs -n1 dash -c echo', 'echo']);
  });
  void it('flags a non-static payload', () => unsafe('sh -c "$X"', /not static/));
  void it('flags a dynamic command inside the payload', () => unsafe("bash -c '$0 x' curl", /command name is not static/));
  void it('flags more than 8 levels of nesting', () => {
    let source = 'id';
    for (let i = 0; i < 10; i++) source = `sh -c ${JSON.stringify(source)}`;
    unsafe(source, /nested more than 8/);
  });
  void it('allows 3 levels of nesting', () => {
    assert.deepEqual(texts(`bash -c "sh -c 'ls'"`), ["bash -c sh -c 'ls'", 'sh -c ls', 'ls']);
  });
});

void describe('analyzeCommand: canonical text', () => {
  void it('keeps unknown leading assignments in the text', () => {
    const [part] = analyze('FOO=1 curl x').parts;
    assert.equal(part?.text, 'FOO=1 curl x');
    assert.ok(part?.denyForms.includes('curl x'));
  });
  void it('keeps LD_PRELOAD in the text', () => assert.deepEqual(texts('LD_PRELOAD=/x.so npm test'), ['LD_PRELOAD=/x.so npm test']));
  void it('drops harmless assignments', () => {
    const [part] = analyze('NODE_ENV=test LC_ALL=C npm test').parts;
    assert.equal(part?.text, 'npm test');
    assert.deepEqual(part?.denyForms, ['NODE_ENV=test LC_ALL=C npm test']);
  });
  void it('strips scheduling wrappers', () => {
    assert.deepEqual(texts('timeout 5 curl x'), ['curl x']);
    assert.deepEqual(texts('timeout -s KILL --foreground 5m nice -n 10 nohup curl x'), ['curl x']);
    assert.deepEqual(texts('time stdbuf -oL ionice -c 3 command builtin exec curl x'), ['curl x']);
  });
  void it('keeps wrappers that are not plain scheduling', () => {
    assert.deepEqual(texts('command -v curl'), ['command -v curl']);
    assert.deepEqual(texts('exec -a x curl y'), ['exec -a x curl y']);
    assert.deepEqual(texts('nohup'), ['nohup']);
  });
  void it('strips every wrapper for deny forms', () => {
    const [part] = analyze('sudo -u root env -i -u HOME A=B /usr/bin/curl x').parts;
    assert.equal(part?.text, 'sudo -u root env -i -u HOME A=B /usr/bin/curl x');
    assert.deepEqual(part?.denyForms, ['/usr/bin/curl x', 'curl x']);
  });
  void it('adds the basename form', () => {
    assert.deepEqual(analyze('/usr/bin/curl x').parts, [{ text: '/usr/bin/curl x', denyForms: ['curl x'] }]);
    assert.deepEqual(analyze('./curl x').parts, [{ text: './curl x', denyForms: ['curl x'] }]);
  });
  void it('removes quotes and resolves escapes', () => {
    assert.deepEqual(analyze('c"u"rl x').parts, [{ text: 'curl x', denyForms: ['c"u"rl x'] }]);
    assert.deepEqual(texts("echo 'a b' \"c\\\"d\" e\\ f"), ['echo a b c"d e f']);
    assert.deepEqual(texts('ls \\\n  -la'), ['ls -la']);
  });
  void it('removes redirections and records static write targets', () => {
    const a = analyze('npm test > out.txt 2>&1');
    assert.deepEqual(a.parts.map((p) => p.text), ['npm test']);
    assert.deepEqual(a.writes, ['out.txt']);
    assert.deepEqual(analyze('a >> log &> all 2>/dev/null < in').writes, ['log', 'all', '/dev/null']);
  });
  void it('flags a dynamic write target', () => unsafe('echo x > "$F"', /redirection target is not static/));
  void it('treats heredoc bodies as data', () => {
    const a = analyze("cat <<'EOF' > f.txt\ncurl x\nEOF");
    assert.deepEqual(a.parts.map((p) => p.text), ['cat']);
    assert.deepEqual(a.writes, ['f.txt']);
    assert.deepEqual(a.unsafe, []);
  });
  void it('finds substitutions in unquoted heredocs', () => assert.deepEqual(texts('cat <<EOF\n$(id)\nEOF'), ['cat', 'id']));
  void it('ignores comments', () => {
    assert.deepEqual(texts('# curl x\nls # rm -rf /'), ['ls']);
  });
  void it('gives zero parts for empty and comment-only input', () => {
    for (const s of ['', '   ', '\n\n', '# just a comment']) {
      assert.deepEqual(analyze(s), { source: s, parts: [], unsafe: [], writes: [] });
    }
  });
  void it('makes declarations and tests parts of their own', () => {
    assert.deepEqual(texts('export A=1 && [ -f x ] && unset A'), ['export A=1', '[ -f x ]', 'unset A']);
  });
  void it('makes no part of a harmless standalone assignment', () => {
    assert.deepEqual(analyze('X=1'), { source: 'X=1', parts: [], unsafe: [], writes: [] });
  });
});
