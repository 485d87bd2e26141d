/** A CONNECT or SOCKS5 client that half-closes (sends its end of file) right after its request and first bytes still gets the success reply and the answer. */
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { proxyFor, type TestProxy } from './helpers.js';

void describe('egress proxy: CONNECT with an early half-close', () => {
  let p: TestProxy;
  let port = 0;
  const got: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (text += c));
    s.on('end', () => {
      got.push(text);
      s.end(`echo:${text}`);
    });
    s.on('error', () => undefined);
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    p = await proxyFor({ allow: ['Net(127.0.0.1)'] });
  });
  after(async () => {
    await p.proxy.close();
    server.close();
  });

  void it('SOCKS5: the client\'s end of file right after its request and "hello": the reply, then the upstream\'s answer', async () => {
    const s = connect({ host: '127.0.0.1', port: p.socksPort, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16BE(port);
    s.end(Buffer.concat([Buffer.from([5, 1, 0]), Buffer.from([5, 1, 0, 1, 127, 0, 0, 1]), portBytes, Buffer.from('hello')]));
    const deadline = setTimeout(() => s.destroy(), 5000);
    await closed;
    clearTimeout(deadline);
    const all = Buffer.concat(chunks);
    assert.deepEqual([...all.subarray(0, 4)], [5, 0, 5, 0], 'method accepted, request succeeded');
    assert.equal(all.subarray(12).toString(), 'echo:hello');
    assert.equal(got.at(-1), 'hello');
  });

  for (const withSplice of [true, false]) {
    void it(`the client's end of file before the 200 (${withSplice ? 'relay allowed' : 'CORDON_NO_SPLICE=1'}): the 200, then the upstream's answer to "hello"`, async () => {
      if (!withSplice) process.env.CORDON_NO_SPLICE = '1';
      try {
        const s = connect({ host: '127.0.0.1', port: p.port, allowHalfOpen: true });
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        const closed = new Promise<void>((r) => s.once('close', () => r()));
        s.end(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\nhello`);
        const deadline = setTimeout(() => s.destroy(), 5000);
        await closed;
        clearTimeout(deadline);
        const all = Buffer.concat(chunks).toString();
        assert.match(all, /^HTTP\/1.1 200 [^\r]*\r\n\r\necho:hello$/, `the client got: ${JSON.stringify(all)}`);
        assert.equal(got.at(-1), 'hello', 'the upstream got the first bytes and then the end');
      } finally {
        delete process.env.CORDON_NO_SPLICE;
      }
    });
  }
});
