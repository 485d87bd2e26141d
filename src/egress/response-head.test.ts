import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkedDecoder } from './chunked.js';
import { framing, parseResponseHead, reusable, ResponseHeadError } from './response-head.js';

const head = (s: string): ReturnType<typeof parseResponseHead> => parseResponseHead(Buffer.from(s, 'latin1'), 1024);

function decode(wire: string, step: number): { body: string; rest: string; done: boolean } {
  const d = new ChunkedDecoder();
  const buf = Buffer.from(wire, 'latin1');
  let body = '';
  let rest = '';
  for (let i = 0; i < buf.length; i += step) {
    const part = buf.subarray(i, i + step);
    const at = d.push(part, 0, (s) => (body += s.toString('latin1')));
    if (at < part.length) {
      rest = buf.subarray(i + at).toString('latin1');
      break;
    }
  }
  return { body, rest, done: d.done };
}

void describe('upstream response heads', () => {
  void it('parses status, reason and raw headers in order; waits for the empty line', () => {
    assert.equal(head('HTTP/1.1 200 OK\r\nA: 1\r\n'), undefined);
    const r = head('HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nX-A:  b c \r\n\r\nabc');
    assert.ok(r !== undefined);
    assert.equal(r.head.statusCode, 404);
    assert.equal(r.head.statusMessage, 'Not Found');
    assert.deepEqual(r.head.rawHeaders, ['Content-Length', '3', 'X-A', 'b c']);
    assert.equal(r.length, 'HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nX-A:  b c \r\n\r\n'.length);
    assert.equal(head('HTTP/1.1 204\r\n\r\n')?.head.statusMessage, '');
  });

  void it('refuses what could be read two ways: bare LF, obs-fold, bad names, control bytes, oversize', () => {
    for (const bad of ['HTTP/1.1 200 OK\nA: 1\r\n\r\n', 'HTTP/1.1 200 OK\r\nA: 1\r\n b\r\n\r\n', 'HTTP/1.1 200 OK\r\nA B: 1\r\n\r\n', 'HTTP/1.1 200 OK\r\nA: 1\n2\r\n\r\n', 'HTTP/1.1 200 OK\r\nA: 1\r2\r\n\r\n', 'HTTP/1.1 200 OK\r\nA: \u00001\r\n\r\n', 'HTTP/2 200 OK\r\n\r\n', 'HTTP/1.1 20 OK\r\n\r\n', 'HTTP/1.1 200 OK\r\nnocolon\r\n\r\n']) {
      assert.throws(() => head(bad), ResponseHeadError, JSON.stringify(bad));
    }
    assert.throws(() => parseResponseHead(Buffer.alloc(2000, 0x41), 1024), ResponseHeadError);
  });

  void it('frames bodies by RFC 9112 section 6.3', () => {
    const f = (s: string, method = 'GET'): ReturnType<typeof framing> => {
      const r = head(s);
      assert.ok(r !== undefined);
      return framing(r.head, method);
    };
    assert.deepEqual(f('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n'), { kind: 'length', length: 10 });
    assert.deepEqual(f('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 'HEAD'), { kind: 'none' });
    assert.deepEqual(f('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n'), { kind: 'none' });
    assert.deepEqual(f('HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n'), { kind: 'length', length: 7 });
    assert.deepEqual(f('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n'), { kind: 'chunked' });
    assert.deepEqual(f('HTTP/1.1 200 OK\r\n\r\n'), { kind: 'close' });
    assert.throws(() => f('HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n'), ResponseHeadError);
    assert.throws(() => f('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'), ResponseHeadError);
    assert.throws(() => f('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'), ResponseHeadError);
  });

  void it('keeps a connection only for HTTP/1.1 framed responses without Connection: close', () => {
    const k = (s: string): boolean => {
      const r = head(s);
      assert.ok(r !== undefined);
      return reusable(r.head, framing(r.head, 'GET'));
    };
    assert.equal(k('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n'), true);
    assert.equal(k('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive, Close\r\n\r\n'), false);
    assert.equal(k('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n'), false);
    assert.equal(k('HTTP/1.1 200 OK\r\n\r\n'), false);
    assert.equal(k('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n'), false);
  });
});

void describe('chunked bodies', () => {
  void it('decodes at every split, drops extensions and trailers, and stops at the end of the body', () => {
    const wire = '5;ext=1\r\nhello\r\n1A \r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-T: 1\r\n\r\nNEXT';
    for (const step of [1, 2, 3, 7, wire.length]) {
      const r = decode(wire, step);
      assert.equal(r.body, 'helloabcdefghijklmnopqrstuvwxyz', `step ${step}`);
      assert.equal(r.done, true);
      assert.equal(r.rest, 'NEXT'.slice(0, r.rest.length));
    }
    assert.equal(decode('0\r\n\r\nNEXT', 100).rest, 'NEXT');
  });

  void it('refuses malformed framing', () => {
    for (const bad of ['\r\n', 'x\r\n', '5\r\nhelloX\r\n', '5\nhello', '1;a\nb\r\n', '12345678901234\r\n', '0\r\nA\nB\r\n\r\n']) {
      assert.throws(() => decode(bad, 100), ResponseHeadError, JSON.stringify(bad));
    }
  });
});
