import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCordonError } from '../../errors.js';
import { compileBashPattern } from './pattern.js';

/** [specifier, texts that match, texts that do not]. */
const TABLE: [string, string[], string[]][] = [
  ['npm test', ['npm test'], ['npm test --watch', 'npm tests', 'xnpm test', ' npm test']],
  ['ls *', ['ls', 'ls -la', 'ls  a b'], ['lsof', 'ls-la', 'xls -la']],
  ['ls*', ['ls', 'lsof', 'ls -la'], ['xls', 'l']],
  ['npm run test:*', ['npm run test', 'npm run test --watch'], ['npm run testx', 'npm run tes', 'npm run test:unit']],
  ['npm run test:unit', ['npm run test:unit'], ['npm run test:unit2', 'npm run test']],
  ['a:*b', ['a:xb', 'a:b'], ['a b', 'ab']],
  ['git * main', ['git push origin main', 'git x main'], ['git push origin main2', 'git main', 'git push origin']],
  ['git * main *', ['git push main', 'git push origin main --force'], ['git push origin mainx', 'git push']],
  ['* --help', ['curl --help', 'x y --help'], ['curl --help x']],
  ['*', ['', 'anything at all'], []],
  ['echo \\*', ['echo *'], ['echo x', 'echo']],
  ['echo a\\\\b', ['echo a\\b'], ['echo ab', 'echo a\\\\b']],
  ['echo a.b+c', ['echo a.b+c'], ['echo aXb+c', 'echo a.bbc', 'echo a.b+cc']],
  ['echo (x)|[y]{2}$^', ['echo (x)|[y]{2}$^'], ['echo x', 'echo (x)|yy$^']],
  ['rm -rf /**', ['rm -rf /', 'rm -rf /tmp/x'], ['rm -rf']],
  ['echo "a b"', ['echo "a b"'], ['echo a b']],
];

void describe('compileBashPattern', () => {
  for (const [spec, yes, no] of TABLE) {
    void it(`Bash(${spec})`, () => {
      const p = compileBashPattern(spec);
      for (const t of yes) assert.equal(p.matches(t), true, `${spec} should match ${JSON.stringify(t)}`);
      for (const t of no) assert.equal(p.matches(t), false, `${spec} should not match ${JSON.stringify(t)}`);
    });
  }

  void it('matches across newlines inside a command text', () => {
    assert.equal(compileBashPattern('echo *').matches('echo a\nb'), true);
    assert.equal(compileBashPattern('echo a').matches('echo a\n'), false);
  });

  void it('rejects an empty specifier with CORDON_RULE_INVALID', () => {
    for (const spec of ['', '   ']) {
      assert.throws(
        () => compileBashPattern(spec),
        (e: unknown) => isCordonError(e) && e.code === 'CORDON_RULE_INVALID' && /Bash\(npm test\)/.test(e.message),
      );
    }
  });

  void it('anchors the compiled expression and collapses stars', () => {
    const p = compileBashPattern('a***b');
    assert.equal(p.regex.source, compileBashPattern('a*b').regex.source);
    assert.ok(p.regex.source.startsWith('^') && p.regex.source.endsWith('$'));
  });

  void it('stays fast on inputs that make naive globs backtrack', () => {
    const p = compileBashPattern(`${'*a'.repeat(30)}*b`);
    const started = process.hrtime.bigint();
    assert.equal(p.matches('a'.repeat(50_000)), false);
    assert.equal(compileBashPattern('* *x *').matches(`${' '.repeat(20_000)}y`), false);
    assert.ok(process.hrtime.bigint() - started < 1_000_000_000n);
  });

  void it('explains itself in one phrase', () => {
    assert.equal(compileBashPattern('npm run test:*').explain(), 'commands that start with the word `npm run test`');
    assert.equal(compileBashPattern('ls *').explain(), 'commands that start with the word `ls`');
    assert.equal(compileBashPattern('npm test').explain(), 'the command `npm test` exactly');
    assert.equal(compileBashPattern('ls*').explain(), 'commands matching `ls*`, where `*` stands for any text');
    assert.equal(
      compileBashPattern('git * main *').explain(),
      'commands matching `git * main` (`*` stands for any text), alone or followed by more words',
    );
  });
});
