/** forwardHeaders (src/egress/headers.ts): hop-by-hop and Connection-listed names in any case, Host replaced in place. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardHeaders } from './headers.js';

void describe('forwardHeaders', () => {
  void it('drops hop-by-hop and proxy headers in any case and keeps the rest in order and case', () => {
    const raw = ['HOST', 'a.example', 'User-Agent', 'x', 'KEEP-ALIVE', 'timeout=5', 'Proxy-Authorization', 'Basic eA==', 'TE', 'trailers', 'Accept', '*/*', 'Upgrade', 'h2c', 'Trailer', 'X', 'Proxy-Connection', 'keep-alive', 'Transfer-Encoding', 'chunked', 'proxy-authenticate', 'x'];
    assert.deepEqual(forwardHeaders(raw, 'b.example:8080'), ['HOST', 'b.example:8080', 'User-Agent', 'x', 'Accept', '*/*']);
  });

  void it('drops every name the Connection header lists, whatever its length or case', () => {
    const raw = ['Connection', 'X-Very-Long-Hop-By-Hop-Name, x-a', 'X-VERY-LONG-HOP-BY-HOP-NAME', '1', 'X-A', '2', 'X-B', '3', 'connection', 'Date'];
    assert.deepEqual(forwardHeaders(raw), ['X-B', '3']);
  });

  void it('adds Host first when the request had none', () => {
    assert.deepEqual(forwardHeaders(['Accept', '*/*'], 'h.example'), ['Host', 'h.example', 'Accept', '*/*']);
  });
});
