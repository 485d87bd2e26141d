import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ignoredBy, parseGitignore } from './gitignore.js';

void describe('gitignore matcher', () => {
  const rules = parseGitignore('# build output\nnode_modules/\n*.log\n/dist\n!keep.log\ndocs/**/*.tmp\n');
  const cases: [string, boolean, boolean | undefined][] = [
    ['node_modules', true, true],
    ['a/node_modules', true, true],
    ['node_modules', false, undefined],
    ['x.log', false, true],
    ['deep/y.log', false, true],
    ['keep.log', false, false],
    ['dist', true, true],
    ['src/dist', true, undefined],
    ['docs/a/b/c.tmp', false, true],
    ['docs/c.tmp', false, true],
    ['src/main.ts', false, undefined],
  ];
  for (const [p, dir, want] of cases) {
    void it(`${p}${dir ? '/' : ''} -> ${String(want)}`, () => assert.equal(ignoredBy(rules, p, dir), want));
  }
});
