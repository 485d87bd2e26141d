import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DlpScanner } from './scanner.js';
import { jsonLeaves } from './structured.js';
import { findSplitSecrets } from './split-fields.js';

const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true });
const AK = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');
const split = (v: unknown): string[] => findSplitSecrets(scanner, jsonLeaves(v)).map((f) => `${f.detector}:${f.fields.join('+')}`);

void describe('secrets split over argument fields', () => {
  void it('joins fragments with a field between, in reverse order, and in runs of four', () => {
    assert.deepEqual(split({ a: AK.slice(0, 8), note: 'a note', b: AK.slice(8) }), ['aws-access-key-id:a+b']);
    assert.deepEqual(split({ b: AK.slice(10), a: AK.slice(0, 10) }), ['aws-access-key-id:a+b']);
    assert.deepEqual(split({ p: [AK.slice(0, 5), AK.slice(5, 10), AK.slice(10, 15), AK.slice(15)] }), ['aws-access-key-id:p[0]+p[1]+p[2]+p[3]']);
  });
  void it('finds nothing in one fragment, in prose, or in unrelated ids', () => {
    assert.deepEqual(split({ message: 'hello' }), []);
    assert.deepEqual(split({ a: `${AK.slice(0, 8)} and`, b: `then ${AK.slice(8)}` }), []);
    assert.deepEqual(split({ sha: '3f786850e387550fdab836ed7e6dc881de23001b', base: '89e6c98d92887913cadf06b2adb97f26cde4849b', region: 'us-east-1', owner: 'octo-org' }), []);
  });
});
