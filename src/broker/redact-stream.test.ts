import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamScrubber } from './redact-stream.js';

const REAL = 'RE-1111111111111111111111';
const PH = 'PH-0000000000000000000000';

void describe('StreamScrubber', () => {
  void it('passes ordinary data on at once and replaces a whole value', () => {
    const s = new StreamScrubber([[REAL, PH]]);
    assert.equal(s.push(Buffer.from('hello')).toString(), 'hello');
    assert.equal(s.pending, 0);
    assert.equal(s.push(Buffer.from(`a ${REAL} b`)).toString(), `a ${PH} b`);
  });
  void it('holds back only a tail that could begin a value, and replaces a value split across reads', () => {
    const s = new StreamScrubber([[REAL, PH]]);
    const split = 10;
    assert.equal(s.push(Buffer.from(`x ${REAL.slice(0, split)}`)).toString(), 'x ');
    assert.equal(s.pending, split);
    assert.equal(s.push(Buffer.from(`${REAL.slice(split)} y`)).toString(), `${PH} y`);
    assert.equal(s.pending, 0);
  });
  void it('flush gives back a held tail that did not become a value', () => {
    const s = new StreamScrubber([[REAL, PH]]);
    assert.equal(s.push(Buffer.from('ab RE-')).toString(), 'ab ');
    assert.equal(s.flush().toString(), 'RE-');
    assert.equal(s.pending, 0);
  });
});
