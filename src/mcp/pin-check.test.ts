import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approvePending, revokePins } from './pin-admin.js';
import { checkTools } from './pin-check.js';
import { emptyPinFile } from './pin-store.js';

const tool = (name: string, description: string): { name: string; definition: unknown } => ({ name, definition: { name, description, inputSchema: { type: 'object' } } });
const now = '2026-01-01T00:00:00.000Z';

void describe('checkTools', () => {
  void it('pins on first use, holds back changed and new tools with a diff, and approval pins exactly what was reviewed', () => {
    const first = checkTools({ record: emptyPinFile('s', ['cmd']), fresh: true, tools: [tool('a', 'A')], firstUse: 'pin', flagged: new Map(), now });
    assert.deepEqual(first.verdicts.map((v) => [v.name, v.status, v.visible]), [['a', 'first-use', true]]);
    const second = checkTools({ record: first.record, fresh: false, tools: [tool('a', 'A2'), tool('b', 'B')], firstUse: 'pin', flagged: new Map(), now });
    assert.deepEqual(second.verdicts.map((v) => [v.name, v.status, v.visible]), [['a', 'changed', false], ['b', 'new', false]]);
    assert.match(second.verdicts[0]?.diff ?? '', /- {3}"description": "A",\n\+ {3}"description": "A2",/);
    const approved = approvePending(second.record, ['a'], now);
    assert.deepEqual(approved.changed, ['a']);
    const third = checkTools({ record: approved.record, fresh: false, tools: [tool('a', 'A2'), tool('b', 'B')], firstUse: 'pin', flagged: new Map(), now });
    assert.deepEqual(third.verdicts.map((v) => v.visible), [true, false]);
    const revoked = revokePins(third.record, null);
    const fourth = checkTools({ record: revoked.record, fresh: false, tools: [tool('a', 'A2')], firstUse: 'pin', flagged: new Map(), now });
    assert.equal(fourth.verdicts[0]?.status, 'new');
  });

  void it('holds every tool on first use with firstUse hold, and never pins a flagged tool', () => {
    const r = checkTools({ record: emptyPinFile('s', ['cmd']), fresh: true, tools: [tool('a', 'A'), tool('b', 'B')], firstUse: 'hold', flagged: new Map([['b', 'bad']]), now });
    assert.deepEqual(r.verdicts.map((v) => [v.status, v.visible]), [['new', false], ['flagged', false]]);
  });
});
