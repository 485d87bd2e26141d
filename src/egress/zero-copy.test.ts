/** The zero-copy relay (native/splice) on real loopback sockets. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { canRelay, resumeReading, startRelay, stopReading, whenFlushed, zeroCopyStats, zeroCopyStatus, type RelayEnd } from './zero-copy.js';

const status = zeroCopyStatus();
/** Outside CI a missing addon is a reported skip; in CI it must have been built (CI proves the relay is used). */
const skip = status.available ? false : `the zero-copy addon is not available: ${status.reason}`;

const opened: Socket[] = [];

/** A connected pair of loopback sockets: [client end, server end]. */
async function pair(server: Server, port: number): Promise<[Socket, Socket]> {
  const accepted = new Promise<Socket>((resolve) => server.once('connection', (s: Socket) => {
    opened.push(s);
    resolve(s);
  }));
  const c = connect({ host: '127.0.0.1', port });
  opened.push(c);
  await new Promise<void>((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  return [c, await accepted];
}

/** A relay's end without its cost counters (compared whole in the tests). */
function outcome(e: RelayEnd): Omit<RelayEnd, 'stats'> {
  return { error: e.error, moved: e.moved, eof: e.eof };
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

function relayEnd(from: Socket, to: Socket, max: number, halfClose = false): { end: Promise<RelayEnd>; cancel: () => void } {
  let cancel = (): void => undefined;
  const end = new Promise<RelayEnd>((resolve, reject) => {
    const r = startRelay(from, to, { max, halfClose, onDone: resolve });
    if (r === undefined) reject(new Error('startRelay returned undefined'));
    else cancel = () => r.cancel();
  });
  return { end, cancel };
}

/** Reads `s` until end, hashing; resolves with the byte count and SHA-256. */
function drain(s: Socket): Promise<{ bytes: number; sha: string }> {
  return new Promise((resolve) => {
    const h = createHash('sha256');
    let bytes = 0;
    s.on('data', (c: Buffer) => {
      bytes += c.length;
      h.update(c);
    });
    s.once('end', () => resolve({ bytes, sha: h.digest('hex') }));
    s.once('error', () => resolve({ bytes, sha: h.digest('hex') }));
  });
}

void describe('zero-copy relay', () => {
  let server: Server;
  let port = 0;
  before(async () => {
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    for (const s of opened) s.destroy();
    server.close();
  });

  void it('is built in CI (elsewhere a missing addon is a reported skip)', (t) => {
    if (process.env.CI !== 'true' && process.env.CI !== '1') {
      if (!status.available) t.skip(`not CI; ${status.reason}`);
      return;
    }
    assert.equal(status.available, true, status.available ? '' : `CI: the addon must build (${status.reason})`);
  });

  void it('moves a large stream unchanged until end of file, half-closing the destination', { skip }, async () => {
    const [src, from] = await pair(server, port);
    const [to, dst] = await pair(server, port);
    const data = Buffer.alloc(48 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32BE((i * 2654435761) >>> 0, i);
    const want = createHash('sha256').update(data).digest('hex');
    assert.deepEqual(stopReading(from), []);
    const got = drain(dst);
    const before = zeroCopyStats.relays;
    const movedBefore = zeroCopyStats.moved;
    const { end } = relayEnd(from, to, -1, true);
    assert.equal(zeroCopyStats.relays, before + 1);
    src.end(data);
    const e = await end;
    assert.deepEqual(outcome(e), { error: undefined, moved: data.length, eof: true });
    // What it cost: every wake-up made at least one splice call and went back to wait at most once, the source was
    // waited for at least once (the start), and each call to the destination moved more than a page on average.
    const st = e.stats;
    assert.ok(st.wakeUps >= 1 && st.spliceIn >= 1 && st.spliceOut >= 1 && st.waitsIn >= 1, JSON.stringify(st));
    assert.ok(st.wakeUps <= st.spliceIn + st.spliceOut, JSON.stringify(st));
    assert.ok(st.waitsIn + st.waitsOut <= st.wakeUps + 1, JSON.stringify(st));
    assert.ok(data.length / st.spliceOut > 4096, JSON.stringify(st));
    assert.equal(zeroCopyStats.moved, movedBefore + data.length);
    // Half-closed: the destination's reader saw end of file while `to` stays open for reading.
    const r = await got;
    assert.equal(r.bytes, data.length);
    assert.equal(r.sha, want);
    assert.equal(to.destroyed, false);
    for (const s of [src, from, to, dst]) s.destroy();
  });

  void it('moves exactly max bytes and leaves the rest to Node, in order', { skip }, async () => {
    const [src, from] = await pair(server, port);
    const [to, dst] = await pair(server, port);
    const body = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    const tail = Buffer.from('after the body');
    stopReading(from);
    const seen: Buffer[] = [];
    dst.on('data', (c: Buffer) => seen.push(c));
    const { end } = relayEnd(from, to, body.length);
    src.write(Buffer.concat([body, tail]));
    const e = await end;
    assert.deepEqual(outcome(e), { error: undefined, moved: body.length, eof: false });
    // The bytes past `max` are still in the socket: Node reads them once resumed.
    const rest = await new Promise<Buffer>((resolve) => {
      from.once('data', resolve);
      resumeReading(from);
    });
    assert.equal(rest.toString(), tail.toString());
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(Buffer.concat(seen).length, body.length);
    for (const s of [src, from, to, dst]) s.destroy();
  });

  void it('hands over bytes Node had already read before relaying', { skip }, async () => {
    const [src, from] = await pair(server, port);
    const [to, dst] = await pair(server, port);
    from.pause();
    src.write('early bytes ');
    await new Promise((r) => setTimeout(r, 50));
    // Node read them into its buffer (paused streams still fill up to their high-water mark).
    const held = stopReading(from);
    assert.equal(Buffer.concat(held).toString(), 'early bytes ');
    for (const c of held) to.write(c);
    const got = drain(dst);
    await new Promise<void>((r) => whenFlushed(to, r));
    const { end } = relayEnd(from, to, -1, true);
    src.end('late bytes');
    await end;
    const chunks: string[] = [];
    dst.on('data', (c: Buffer) => chunks.push(c.toString()));
    assert.equal((await got).bytes, 'early bytes late bytes'.length);
    for (const s of [src, from, to, dst]) s.destroy();
  });

  void it('max 0 ends at once with nothing moved, though the source never becomes readable', { skip }, async () => {
    const [src, from] = await pair(server, port);
    const [to, dst] = await pair(server, port);
    stopReading(from);
    const t0 = Date.now();
    const { end } = relayEnd(from, to, 0);
    assert.deepEqual(outcome(await end), { error: undefined, moved: 0, eof: false });
    assert.ok(Date.now() - t0 < 2000, 'ended without waiting for the source');
    for (const s of [src, from, to, dst]) s.destroy();
  });

  void it('CORDON_RELAY_STATS=1 writes each relay\'s cost to stderr', { skip }, async () => {
    const [src, from] = await pair(server, port);
    const [to, dst] = await pair(server, port);
    stopReading(from);
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.env.CORDON_RELAY_STATS = '1';
    process.stderr.write = ((chunk: string | Uint8Array): boolean => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const got = drain(dst);
      const { end } = relayEnd(from, to, -1, true);
      src.end(Buffer.alloc(300_000, 1));
      const e = await end;
      assert.equal((await got).bytes, 300_000);
      const line = lines.find((l) => l.startsWith('cordon relay: 300000 bytes'));
      assert.ok(line !== undefined, lines.join(''));
      assert.match(line, new RegExp(`^cordon relay: 300000 bytes, ${e.stats.wakeUps} wake-ups, splice ${e.stats.spliceIn} in ${e.stats.spliceOut} out, waits ${e.stats.waitsIn} in ${e.stats.waitsOut} out\\n$`));
    } finally {
      process.stderr.write = write;
      delete process.env.CORDON_RELAY_STATS;
    }
    for (const s of [src, from, to, dst]) s.destroy();
  });

  void it('refuses sizes the addon cannot take exactly (RangeError, nothing started)', { skip }, async () => {
    const [src, from] = await pair(server, port);
    const [to, dst] = await pair(server, port);
    const before = zeroCopyStats.relays;
    for (const max of [Number.NaN, Infinity, -2, 1.5, 2 ** 53]) assert.throws(() => startRelay(from, to, { max, halfClose: false, onDone: () => undefined }), RangeError, `max ${max}`);
    for (const pipeBytes of [0, 2 ** 32, Number.NaN]) assert.throws(() => startRelay(from, to, { max: -1, halfClose: false, pipeBytes, onDone: () => undefined }), RangeError, `pipeBytes ${pipeBytes}`);
    assert.equal(zeroCopyStats.relays, before);
    for (const s of [src, from, to, dst]) s.destroy();
  });

  void it('reports a short source (end of file before max)', { skip }, async () => {
    const [src, from] = await pair(server, port);
    const [to, dst] = await pair(server, port);
    stopReading(from);
    const { end } = relayEnd(from, to, 1024 * 1024);
    src.end(Buffer.alloc(1000));
    assert.deepEqual(outcome(await end), { error: undefined, moved: 1000, eof: true });
    for (const s of [src, from, to, dst]) s.destroy();
  });

  void it('ends with an error when the destination goes away', { skip }, async () => {
    const [src, from] = await pair(server, port);
    const [to, dst] = await pair(server, port);
    stopReading(from);
    // Node does not read `to` either (else it sees the reset first and closes it: ECLOSED).
    stopReading(to);
    const { end } = relayEnd(from, to, -1);
    dst.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 30));
    const big = Buffer.alloc(8 * 1024 * 1024);
    src.write(big);
    src.write(big);
    const e = await end;
    assert.ok(e.error === 'EPIPE' || e.error === 'ECONNRESET', `error ${e.error}`);
    for (const s of [src, from, to]) s.destroy();
  });

  void it('a socket closed in the process cancels the relay (ECLOSED)', { skip }, async () => {
    const [src, from] = await pair(server, port);
    const [to, dst] = await pair(server, port);
    stopReading(from);
    const { end } = relayEnd(from, to, -1);
    from.destroy();
    assert.equal((await end).error, 'ECLOSED');
    for (const s of [src, to, dst]) s.destroy();
  });

  void it('refreshes Node timeouts while bytes move; a stalled relay still times out', { skip }, async () => {
    const [src, from] = await pair(server, port);
    const [to, dst] = await pair(server, port);
    stopReading(from);
    dst.resume();
    let timedOut = 0;
    from.setTimeout(800, () => (timedOut += 1));
    to.setTimeout(800, () => (timedOut += 1));
    const { end, cancel } = relayEnd(from, to, -1);
    // Slow but alive: a byte every 100 ms for 2.4 s (3 timeouts long; reports every 200 ms).
    for (let i = 0; i < 24; i += 1) {
      src.write('x');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(timedOut, 0, 'a moving relay must not time out');
    // Stalled: both sockets time out within the timeout plus one report interval (200 ms), with slack for a loaded machine.
    const t0 = Date.now();
    while (timedOut < 2 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    const took = Date.now() - t0;
    assert.equal(timedOut, 2);
    assert.ok(took >= 550 && took < 3000, `timed out after ${took} ms`);
    cancel();
    void end;
    for (const s of [src, from, to, dst]) s.destroy();
  });

  void it('leaks no descriptor over many relays (done, cancelled, failed)', { skip }, async () => {
    const fds = openFds();
    for (let i = 0; i < 30; i += 1) {
      const [src, from] = await pair(server, port);
      const [to, dst] = await pair(server, port);
      stopReading(from);
      dst.resume();
      const { end, cancel } = relayEnd(from, to, 100_000);
      if (i % 3 === 0) {
        src.write(Buffer.alloc(100_000));
        assert.equal((await end).moved, 100_000);
      } else if (i % 3 === 1) {
        cancel();
      } else {
        src.destroy();
        assert.equal((await end).eof, true);
      }
      for (const s of [src, from, to, dst]) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(openFds(), fds);
  });

  void it('is not used for TLS sockets (canRelay false)', { skip }, async () => {
    const [a, b] = await pair(server, port);
    assert.equal(canRelay(a, b), true);
    Object.defineProperty(a, 'encrypted', { value: true });
    assert.equal(canRelay(a, b), false);
    a.destroy();
    b.destroy();
  });

  void it('CORDON_NO_SPLICE=1 disables it', () => {
    const code = "import('./src/egress/zero-copy.ts').then((m) => process.stdout.write(JSON.stringify(m.zeroCopyStatus())))";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { env: { ...process.env, CORDON_NO_SPLICE: '1' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { available: false, reason: 'disabled by CORDON_NO_SPLICE=1' });
  });
});
