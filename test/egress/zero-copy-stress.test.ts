/**
 * Stress of the zero-copy relay inside a real proxy (in this process): ~100
 * concurrent CONNECT tunnels and plain HTTP downloads with seeded random sizes
 * around the thresholds (RELAY_AFTER_BYTES for tunnels, 256 KiB for bodies),
 * random client and upstream aborts. Every completed transfer is checked by
 * SHA-256, every transfer has a deadline, and the proxy's tunnel count and
 * this process's open descriptors return to where they started.
 * Seed: CORDON_STRESS_SEED (default 4), printed in the test's name.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { seededRandom } from '../../src/seeded-random.js';
import { zeroCopyStats, zeroCopyStatus } from '../../src/egress/zero-copy.js';
import { proxyFor, type TestProxy } from './helpers.js';

const status = zeroCopyStatus();
const skip = status.available ? false : `the zero-copy addon is not available: ${status.reason}`;
const SEED = Number(process.env.CORDON_STRESS_SEED ?? '4');
const KIB = 1024;
const MIB = 1024 * KIB;
const DEADLINE_MS = 15_000;

/** The bytes every transfer is a slice of (pseudo-random, so a misplaced piece changes the hash). */
const BIG = Buffer.alloc(8 * MIB);
{
  const r = seededRandom(99);
  for (let i = 0; i < BIG.length; i += 4) BIG.writeUInt32LE(Math.floor(r() * 4294967296), i);
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const openFds = (): number => readdirSync('/proc/self/fd').length;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sizes around the thresholds: empty, 1 byte, the body relay's 256 KiB, the tunnel's 512 KiB, a few MiB. */
function size(r: () => number): number {
  const fixed = [0, 1, 256 * KIB + 1, 511 * KIB, 512 * KIB, 513 * KIB];
  const i = Math.floor(r() * (fixed.length + 3));
  return fixed[i] ?? MIB + Math.floor(r() * 3 * MIB);
}

type Mode = 'ok' | 'client-abort' | 'upstream-abort';
function mode(r: () => number): Mode {
  const x = r();
  return x < 0.7 ? 'ok' : x < 0.85 ? 'client-abort' : 'upstream-abort';
}

interface Outcome {
  readonly kind: 'tunnel' | 'http';
  readonly mode: Mode;
  readonly label: string;
  /** An error for a completed transfer whose bytes were wrong, or a transfer that missed its deadline. */
  readonly problem: string | undefined;
}

/** Reads the whole stream until close (or the deadline), optionally destroying it once `abortAt` bytes arrived. */
function collect(s: Socket, abortAt: number | undefined): Promise<{ data: Buffer; timedOut: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ data: Buffer.concat(chunks), timedOut: true });
    }, DEADLINE_MS);
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      n += c.length;
      if (abortAt !== undefined && n >= abortAt) s.destroy();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), timedOut: false });
    });
  });
}

void describe(`zero-copy relay under stress (seed ${SEED})`, () => {
  let tunnelUp: Server;
  let httpUp: HttpServer;
  let tunnelPort = 0;
  let httpPort = 0;
  let p: TestProxy;
  // Upstream sockets still open (a client abort must close the upstream side too).
  const upstreamOpen = new Set<Socket>();
  before(async () => {
    // Tunnel upstream: the first line is `up down offset mode`; it sends `down` bytes of BIG at once while it reads
    // `up` bytes; at the client's end of file it sends the SHA-256 of what it read and ends. Mode upstream-abort:
    // destroyed after half of `down`.
    tunnelUp = createNetServer({ allowHalfOpen: true }, (s) => {
      upstreamOpen.add(s);
      s.on('close', () => upstreamOpen.delete(s));
      s.on('error', () => undefined);
      let line = Buffer.alloc(0);
      let h: ReturnType<typeof createHash> | undefined;
      let aborting = false;
      s.on('data', (c: Buffer) => {
        if (h !== undefined) {
          h.update(c);
          return;
        }
        line = Buffer.concat([line, c]);
        const nl = line.indexOf('\n');
        if (nl < 0) return;
        const [, down = 0, off = 0, m = 0] = line.subarray(0, nl).toString().split(' ').map(Number);
        h = createHash('sha256').update(line.subarray(nl + 1));
        const body = BIG.subarray(off, off + down);
        if (m === 2) {
          aborting = true;
          s.write(body.subarray(0, Math.floor(down / 2)), () => (Math.floor(down / 4) % 2 === 0 ? s.destroy() : s.resetAndDestroy()));
        } else s.write(body);
      });
      s.on('end', () => {
        if (!aborting) s.end(h?.digest('hex') ?? 'no-line');
      });
    });
    // HTTP upstream: /dl/size/offset/mode, Content-Length bodies (keep-alive, so relayed bodies end on exactly max bytes
    // with the upstream connection still open); mode 2: destroyed after half the body.
    httpUp = createServer((req, res) => {
      const [, , sz = 0, off = 0, m = 0] = (req.url ?? '').split('/').map(Number);
      const body = BIG.subarray(off, off + sz);
      res.writeHead(200, { 'content-length': String(sz) });
      if (m === 2) res.write(body.subarray(0, Math.floor(sz / 2)), () => req.socket.destroy());
      else res.end(body);
    });
    httpUp.keepAliveTimeout = 60_000;
    httpUp.on('connection', (s: Socket) => {
      upstreamOpen.add(s);
      s.on('close', () => upstreamOpen.delete(s));
    });
    await new Promise<void>((r) => tunnelUp.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => httpUp.listen(0, '127.0.0.1', r));
    tunnelPort = (tunnelUp.address() as AddressInfo).port;
    httpPort = (httpUp.address() as AddressInfo).port;
    p = await proxyFor({ allow: ['Net(127.0.0.1)'] });
  });
  after(async () => {
    await p.proxy.close();
    tunnelUp.close();
    httpUp.closeAllConnections();
    httpUp.close();
  });

  async function tunnel(r: () => number, i: number): Promise<Outcome> {
    const up = size(r);
    const down = size(r);
    const off = Math.floor(r() * (BIG.length - down));
    const upOff = Math.floor(r() * (BIG.length - up));
    const m = mode(r);
    const abortAt = m === 'client-abort' ? Math.floor(r() * (down + 1)) : undefined;
    const label = `tunnel ${i} up ${up} down ${down} ${m}${abortAt === undefined ? '' : ` at ${abortAt}`}`;
    const s = connect({ host: '127.0.0.1', port: p.port });
    s.write(`CONNECT 127.0.0.1:${tunnelPort} HTTP/1.1\r\nHost: 127.0.0.1:${tunnelPort}\r\n\r\n`);
    s.write(`${up} ${down} ${off} ${m === 'upstream-abort' ? 2 : 0}\n`);
    // The upload and its end follow the 200: a client whose end of file reaches the proxy before the 200 is written
    // gets a bare end of file, no 200 and no bytes (the upstream still gets the early data): the CONNECT handling's
    // (not the relay's) behaviour, reported separately and left out of this test.
    s.once('data', () => s.end(BIG.subarray(upOff, upOff + up)));
    const all = await collect(s, abortAt === undefined ? undefined : abortAt + 39);
    if (all.timedOut) return { kind: 'tunnel', mode: m, label, problem: `${label}: no end within ${DEADLINE_MS} ms (${all.data.length} bytes)` };
    if (m !== 'ok') return { kind: 'tunnel', mode: m, label, problem: undefined };
    const headEnd = all.data.indexOf('\r\n\r\n');
    const head = all.data.subarray(0, Math.max(0, headEnd)).toString();
    const body = all.data.subarray(headEnd + 4);
    const want = `${sha(BIG.subarray(off, off + down))} + ${sha(BIG.subarray(upOff, upOff + up))}`;
    const got = `${sha(body.subarray(0, down))} + ${body.subarray(down).toString()}`;
    const problem = !head.startsWith('HTTP/1.1 200') ? `${label}: head ${head}` : body.length !== down + 64 ? `${label}: ${body.length} bytes back, not ${down + 64}` : got !== want ? `${label}: bytes differ` : undefined;
    return { kind: 'tunnel', mode: m, label, problem };
  }

  async function download(r: () => number, i: number): Promise<Outcome> {
    const sz = size(r);
    const off = Math.floor(r() * (BIG.length - sz));
    const m = mode(r);
    const abortAt = m === 'client-abort' ? Math.floor(r() * (sz + 1)) : undefined;
    const label = `download ${i} size ${sz} ${m}${abortAt === undefined ? '' : ` at ${abortAt}`}`;
    const s = connect({ host: '127.0.0.1', port: p.port });
    s.write(`GET http://127.0.0.1:${httpPort}/dl/${sz}/${off}/${m === 'upstream-abort' ? 2 : 0} HTTP/1.1\r\nHost: 127.0.0.1:${httpPort}\r\nConnection: close\r\n\r\n`);
    const all = await collect(s, abortAt);
    if (all.timedOut) return { kind: 'http', mode: m, label, problem: `${label}: no end within ${DEADLINE_MS} ms (${all.data.length} bytes)` };
    if (m !== 'ok') return { kind: 'http', mode: m, label, problem: undefined };
    const headEnd = all.data.indexOf('\r\n\r\n');
    const head = all.data.subarray(0, Math.max(0, headEnd)).toString();
    const body = all.data.subarray(headEnd + 4);
    const problem = !head.startsWith('HTTP/1.1 200') ? `${label}: head ${head.split('\r\n')[0] ?? ''}` : body.length !== sz ? `${label}: ${body.length} bytes, not ${sz}` : sha(body) !== sha(BIG.subarray(off, off + sz)) ? `${label}: bytes differ` : undefined;
    return { kind: 'http', mode: m, label, problem };
  }

  void it('100 concurrent tunnels and downloads with aborts: bytes exact, every transfer ends, no slot or descriptor left', { skip, timeout: 40_000 }, async () => {
    await stress(true);
  });

  void it('the same with CORDON_NO_SPLICE=1 (all in JavaScript)', { timeout: 40_000 }, async () => {
    const was = process.env.CORDON_NO_SPLICE;
    process.env.CORDON_NO_SPLICE = '1';
    try {
      await stress(false);
    } finally {
      if (was === undefined) delete process.env.CORDON_NO_SPLICE;
      else process.env.CORDON_NO_SPLICE = was;
    }
  });

  async function stress(relayed: boolean): Promise<void> {
    const fds0 = openFds();
    const tunnels0 = p.proxy.tunnels();
    const relays0 = zeroCopyStats.relays;
    const r = seededRandom(SEED);
    const started = Date.now();
    const jobs: Promise<Outcome>[] = [];
    for (let i = 0; i < 100; i += 1) jobs.push(r() < 0.5 ? tunnel(r, i) : download(r, i));
    const outcomes = await Promise.all(jobs);
    const wall = Date.now() - started;
    assert.deepEqual(outcomes.map((o) => o.problem).filter((x) => x !== undefined), [], 'every completed transfer exact, every aborted one ended');
    const count = (k: Outcome['kind'], m: Mode): number => outcomes.filter((o) => o.kind === k && o.mode === m).length;
    // The mix is what the test is about: both kinds, completed and aborted, and relays used.
    for (const k of ['tunnel', 'http'] as const) for (const m of ['ok', 'client-abort', 'upstream-abort'] as const) assert.ok(count(k, m) > 0, `seed ${SEED} made no ${k} ${m}`);
    if (relayed) assert.ok(zeroCopyStats.relays - relays0 > 10, `relays used: ${zeroCopyStats.relays - relays0}`);
    else assert.equal(zeroCopyStats.relays, relays0, 'no relay with CORDON_NO_SPLICE=1');
    // Pooled upstream connections are the proxy's by design: closing them from the upstream side must release them.
    httpUp.closeAllConnections();
    let fds = openFds();
    const t0 = Date.now();
    while ((p.proxy.tunnels() !== tunnels0 || fds > fds0 + 4 || upstreamOpen.size > 0) && Date.now() - t0 < 5000) {
      await sleep(50);
      fds = openFds();
    }
    assert.equal(p.proxy.tunnels(), tunnels0, 'every tunnel slot freed');
    assert.equal(upstreamOpen.size, 0, 'every upstream connection closed (client aborts reached the upstream)');
    assert.ok(fds <= fds0 + 4, `open descriptors ${fds0} -> ${fds} (relay pipes or dup()ed sockets leaked?)`);
    process.stdout.write(`# stress seed ${SEED}${relayed ? '' : ' (JavaScript)'}: ${outcomes.length} transfers in ${wall} ms, relays ${zeroCopyStats.relays - relays0}, fds ${fds0} -> ${fds}\n`);
  }
});
