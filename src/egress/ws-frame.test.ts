import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeFrame, encodeFrame, FrameReader, OPCODE } from './ws-frame.js';
import { MessageInflater } from './ws-inflate.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

void describe('WebSocket frames', () => {
  void it('reads the RFC 6455 examples (masked "Hello", fragmented text, ping)', () => {
    const r = new FrameReader({ masked: true, maxFrameBytes: 1024, deflate: false });
    r.push(hex('818537fa213d7f9f4d5158'));
    const s = r.next();
    assert.equal(s.kind, 'frame');
    if (s.kind !== 'frame') return;
    assert.equal(s.frame.payload.toString(), 'Hello');
    assert.equal(s.frame.fin, true);
    assert.equal(s.frame.opcode, OPCODE.text);
    const u = new FrameReader({ masked: false, maxFrameBytes: 1024, deflate: false });
    u.push(hex('010348656c 80026c6f 890548656c6c6f'));
    const parts = [u.next(), u.next(), u.next()].map((x) => (x.kind === 'frame' ? `${x.frame.opcode}:${x.frame.fin}:${x.frame.payload.toString()}` : x.kind));
    assert.deepEqual(parts, ['1:false:Hel', '0:true:lo', '9:true:Hello']);
    assert.equal(u.next().kind, 'more');
  });

  void it('reads frames split at every byte, and 16- and 64-bit lengths', () => {
    const mask = Buffer.from([1, 2, 3, 4]);
    for (const n of [0, 125, 126, 65535, 65536, 70000]) {
      const payload = Buffer.alloc(n, 0x61);
      const wire = encodeFrame({ opcode: OPCODE.binary, payload, mask });
      const r = new FrameReader({ masked: true, maxFrameBytes: 1 << 20, deflate: false });
      const step = n < 200 ? 1 : 4096;
      let got: Buffer | undefined;
      for (let i = 0; i < wire.length; i += step) {
        r.push(wire.subarray(i, i + step));
        const x = r.next();
        if (x.kind === 'frame') got = x.frame.payload;
        else assert.equal(x.kind, 'more');
      }
      assert.ok(got?.equals(payload), `length ${n}`);
    }
  });

  void it('refuses protocol errors and frames over the bound', () => {
    const cases: [Buffer, boolean, number][] = [
      [encodeFrame({ opcode: OPCODE.text, payload: Buffer.from('x') }), true, 1002], // unmasked client frame
      [encodeFrame({ opcode: OPCODE.text, payload: Buffer.from('x'), mask: Buffer.alloc(4) }), false, 1002], // masked server frame
      [hex('830100'), false, 1002], // reserved opcode 3
      [hex('a10100'), false, 1002], // RSV2
      [hex('c10100'), false, 1002], // RSV1 without deflate
      [hex('097e0080'), false, 1002], // control frame > 125 / fragmented
      [encodeFrame({ opcode: OPCODE.binary, payload: Buffer.alloc(2000) }), false, 1009],
      [hex('827fffffffffffffffff'), false, 1009],
    ];
    for (const [wire, masked, code] of cases) {
      const r = new FrameReader({ masked, maxFrameBytes: 1024, deflate: false });
      r.push(wire);
      const x = r.next();
      assert.equal(x.kind, 'error', wire.toString('hex'));
      if (x.kind === 'error') assert.equal(x.code, code, wire.toString('hex'));
    }
  });

  void it('encodes a close frame with code and reason', () => {
    const r = new FrameReader({ masked: false, maxFrameBytes: 1024, deflate: false });
    r.push(closeFrame(1008, 'policy'));
    const x = r.next();
    assert.ok(x.kind === 'frame' && x.frame.opcode === OPCODE.close && x.frame.payload.readUInt16BE(0) === 1008 && x.frame.payload.subarray(2).toString() === 'policy');
  });

  void it('inflates the RFC 7692 examples with context takeover, fragment by fragment', async () => {
    const z = new MessageInflater({ maxMessageBytes: 1024, maxRatio: 200 });
    assert.equal(String(await z.push(hex('f248cdc9c90700'), true)), 'Hello');
    // The same message again, compressed with the previous one as context (RFC 7692 7.2.3.2).
    assert.equal(String(await z.push(hex('f20011 0000'), true)), 'Hello');
    const a = await z.push(hex('f248cd'), false);
    const b = await z.push(hex('c9c90700'), true);
    assert.equal(`${String(a)}${String(b)}`, 'Hello');
    z.close();
  });

  void it('stops inflating a bomb at the bound', async () => {
    const { deflateRawSync, constants } = await import('node:zlib');
    const bomb = deflateRawSync(Buffer.alloc(8 * 1024 * 1024), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
    const z = new MessageInflater({ maxMessageBytes: 64 * 1024 * 1024, maxRatio: 200 });
    const out = await z.push(bomb, true);
    assert.equal(typeof out, 'string');
    assert.match(String(out), /more than 200 times/);
    const small = new MessageInflater({ maxMessageBytes: 1000, maxRatio: 1e9 });
    assert.match(String(await small.push(bomb, true)), /past 1000 bytes/);
  });
});
