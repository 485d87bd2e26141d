import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineFramer, type FrameEvent } from './framing.js';
import { classify, jsonNestingExceeds, sniffId } from './jsonrpc.js';

void describe('LineFramer', () => {
  void it('joins lines split across chunks and drops blank lines', () => {
    const f = new LineFramer(100);
    assert.deepEqual(f.push(Buffer.from('{"a":')), []);
    assert.deepEqual(f.push(Buffer.from('1}\n\n{"b":2}\r\n{"c"')), [{ kind: 'line', text: '{"a":1}' }, { kind: 'line', text: '{"b":2}' }]);
    assert.deepEqual(f.end(), [{ kind: 'line', text: '{"c"' }]);
  });

  void it('decodes a character split across chunks once the line is whole', () => {
    const f = new LineFramer(100);
    const bytes = Buffer.from('{"t":"\u00e9\u{1F600}"}\n{"u":1}\n');
    const out = [...f.push(bytes.subarray(0, 8)), ...f.push(bytes.subarray(8, 11)), ...f.push(bytes.subarray(11))];
    assert.deepEqual(out, [{ kind: 'line', text: '{"t":"\u00e9\u{1F600}"}' }, { kind: 'line', text: '{"u":1}' }]);
  });

  void it('decodes long lines, ASCII or not, within one chunk or across several, to the same text', () => {
    const ascii = `{"t":"${'plain text, '.repeat(1000)}"}`;
    const utf8 = `{"t":"${'caf\u00e9 \u{1F600} '.repeat(1000)}"}`;
    const bytes = Buffer.from(`${ascii}\n${utf8}\n${ascii}\n`);
    const whole = new LineFramer(1 << 20).push(bytes);
    assert.deepEqual(whole.map((e) => (e.kind === 'line' ? e.text : '')), [ascii, utf8, ascii]);
    const f = new LineFramer(1 << 20);
    const parts: FrameEvent[] = [];
    for (let off = 0; off < bytes.length; off += 777) parts.push(...f.push(bytes.subarray(off, off + 777)));
    assert.deepEqual(parts.map((e) => (e.kind === 'line' ? e.text : '')), [ascii, utf8, ascii]);
  });

  void it('discards an oversized line as it streams, reports it once, and keeps going', () => {
    const f = new LineFramer(16);
    const out = [...f.push(Buffer.from('{"id":7,"x":"')), ...f.push(Buffer.alloc(1000, 0x61)), ...f.push(Buffer.from('"}\n{"ok":1}\n'))];
    assert.equal(out.length, 2);
    assert.equal(out[0]?.kind, 'oversized');
    if (out[0]?.kind === 'oversized') {
      assert.equal(out[0].bytes, 1015);
      assert.equal(sniffId(out[0].head), 7);
    }
    assert.deepEqual(out[1], { kind: 'line', text: '{"ok":1}' });
  });
});

void describe('classify', () => {
  void it('tells requests, notifications, responses and invalid messages apart', () => {
    assert.equal(classify('{"jsonrpc":"2.0","id":1,"method":"x"}').kind, 'request');
    assert.equal(classify('{"jsonrpc":"2.0","method":"x"}').kind, 'notification');
    assert.equal(classify('{"jsonrpc":"2.0","id":"a","result":{}}').kind, 'response');
    assert.deepEqual(classify('[1]'), { kind: 'invalid', id: null, reason: 'JSON-RPC batches are not accepted', code: -32600 });
    assert.equal(classify('{"jsonrpc":"2.0","id":1,"result":1,"error":{}}').kind, 'invalid');
    assert.equal(classify('{"jsonrpc":"2.0","id":{},"method":"x"}').kind, 'invalid');
    assert.equal(classify('nope').kind, 'invalid');
  });
});

void describe('jsonNestingExceeds', () => {
  void it('counts nesting outside strings only, honouring escapes', () => {
    assert.equal(jsonNestingExceeds('[[[1]]]', 3), false);
    assert.equal(jsonNestingExceeds('[[[[1]]]]', 3), true);
    assert.equal(jsonNestingExceeds(`{"a":"${'['.repeat(50)}"}`, 3), false);
    assert.equal(jsonNestingExceeds(`{"a":"\\"${'['.repeat(50)}"}`, 3), false);
    assert.equal(jsonNestingExceeds(`{"a":"x\\\\","b":${'['.repeat(5)}1${']'.repeat(5)}}`, 3), true);
    assert.equal(jsonNestingExceeds(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`), true);
    assert.equal(jsonNestingExceeds(`[${'[1],'.repeat(10_000)}[1]]`), false);
  });

  void it('classify refuses a deeply nested message with its id, before any walk can overflow', () => {
    const deep = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","arguments":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}}`;
    const m = classify(deep);
    assert.equal(m.kind, 'invalid');
    if (m.kind === 'invalid') {
      assert.equal(m.id, 7);
      assert.match(m.reason, /nested deeper than 128 levels/);
    }
    assert.equal(classify(`{"jsonrpc":"2.0","id":7,"method":"x","params":${'['.repeat(100)}${']'.repeat(100)}}`).kind, 'request');
  });
});
