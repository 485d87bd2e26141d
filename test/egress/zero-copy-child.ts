/**
 * Child process of test/egress/zero-copy-limits.test.ts (run with tsx; one
 * scenario per process, its result as one JSON line on stdout):
 *
 * - `fds`: a proxy in this process (run under `prlimit --nofile`), descriptors
 *   filled up to the limit but for k (0-4) just before a tunnel direction and a
 *   plain HTTP body would go to the relay (dup()/dup()/pipe2() fail in turn):
 *   every transfer must complete (JavaScript fallback) and no descriptor stay.
 * - `gc` (with --expose-gc): relays started on the addon directly, their
 *   handles dropped and collected while they run: every relay still completes.
 * - `throw`: an onDone callback that throws does not end the process.
 * - `relay`: one 4 MiB relay with a 1 MiB pipe asked for (run as a user over
 *   the pipe quota, where F_SETPIPE_SZ is refused).
 * - `budget ADDON`: relays of exactly max bytes from a source left open, on a
 *   build of the addon with a small per-wake-up budget.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { relayCallbackErrors, startRelay, stopReading, zeroCopyStats, zeroCopyStatus } from '../../src/egress/zero-copy.js';
import { collect, proxyFor } from './helpers.js';

const MIB = 1024 * 1024;
const BODY = Buffer.alloc(2 * MIB);
for (let i = 0; i < BODY.length; i += 4) BODY.writeUInt32LE((i * 2654435761) >>> 0, i);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const openFds = (): number => readdirSync('/proc/self/fd').length;
/** Pipes this process holds (the relay's are pipes; Node's own few stay the same). */
function pipes(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('pipe:')) n += 1;
    } catch {
      // Closed between the listing and the read (the listing's own descriptor).
    }
  }
  return n;
}

/** Opens /dev/null until the descriptor limit, then closes `free` of them: returns the rest (to close later). */
function fillFds(free: number): number[] {
  const held: number[] = [];
  for (;;) {
    try {
      held.push(openSync('/dev/null', 'r'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EMFILE') break;
      throw e;
    }
  }
  for (let i = 0; i < free; i += 1) {
    const fd = held.pop();
    if (fd !== undefined) closeSync(fd);
  }
  return held;
}


function untilData(s: Socket, has: (b: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const on = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      if (!has(buf)) return;
      s.off('data', on);
      resolve(buf);
    };
    s.on('data', on);
    s.once('close', () => reject(new Error(`closed after ${buf.length} bytes`)));
  });
}

async function fds(): Promise<unknown> {
  // Tunnel upstream: sends BODY and ends once it reads `go`.
  const tunnelUp = createNetServer((s) => {
    s.on('error', () => undefined);
    s.once('data', () => s.end(BODY));
  });
  const httpUp = createServer((req, res) => {
    const body = req.url === '/big' ? BODY : Buffer.from('small');
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(body);
  });
  httpUp.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => tunnelUp.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => httpUp.listen(0, '127.0.0.1', r));
  const tPort = (tunnelUp.address() as AddressInfo).port;
  const hPort = (httpUp.address() as AddressInfo).port;
  const p = await proxyFor({ allow: ['Net(127.0.0.1)'] });
  const rounds: { free: number; tunnel: string; http: string; relays: number; fdsBefore: number; fdsAfter: number }[] = [];
  const want = sha(BODY);
  for (const free of [0, 1, 2, 3, 4, 6]) {
    const fdsBefore = openFds();
    const relays0 = zeroCopyStats.relays;
    // Tunnel: established, then the descriptors filled, then the 2 MiB burst that would go to the relay.
    const s = connect({ host: '127.0.0.1', port: p.port });
    s.write(`CONNECT 127.0.0.1:${tPort} HTTP/1.1\r\nHost: 127.0.0.1:${tPort}\r\n\r\n`);
    const head = await untilData(s, (b) => b.includes('\r\n\r\n'));
    const rest = head.subarray(head.indexOf('\r\n\r\n') + 4);
    let held = fillFds(free);
    const back = collect(s, 15_000);
    s.end('go\n');
    const t = await back;
    for (const fd of held) closeSync(fd);
    const tunnelBody = Buffer.concat([rest, t.data]);
    // The proxy's side of the tunnel closes just after the client's: wait, so `free` is exact for the next transfer.
    await new Promise((r) => setTimeout(r, 100));
    const tunnel = !t.closed ? 'no end' : tunnelBody.length !== BODY.length ? `${tunnelBody.length} bytes` : sha(tunnelBody) === want ? 'ok' : 'bytes differ';
    // Plain HTTP: a small response first (the pooled upstream connection exists), then the big one with descriptors filled.
    const c = connect({ host: '127.0.0.1', port: p.port });
    c.write(`GET http://127.0.0.1:${hPort}/small HTTP/1.1\r\nHost: 127.0.0.1:${hPort}\r\n\r\n`);
    await untilData(c, (b) => b.toString('latin1').endsWith('small'));
    held = fillFds(free);
    const got = collect(c, 15_000);
    c.write(`GET http://127.0.0.1:${hPort}/big HTTP/1.1\r\nHost: 127.0.0.1:${hPort}\r\nConnection: close\r\n\r\n`);
    const h = await got;
    for (const fd of held) closeSync(fd);
    const i = h.data.indexOf('\r\n\r\n');
    const httpBody = h.data.subarray(i + 4);
    const http = !h.closed ? 'no end' : !h.data.subarray(0, i).toString().startsWith('HTTP/1.1 200') ? `head ${h.data.subarray(0, 40).toString()}` : httpBody.length !== BODY.length ? `${httpBody.length} bytes` : sha(httpBody) === want ? 'ok' : 'bytes differ';
    await new Promise((r) => setTimeout(r, 100));
    rounds.push({ free, tunnel, http, relays: zeroCopyStats.relays - relays0, fdsBefore, fdsAfter: openFds() });
  }
  await p.proxy.close();
  httpUp.closeAllConnections();
  httpUp.close();
  tunnelUp.close();
  return { available: zeroCopyStatus().available, rounds };
}

/** Connected loopback pairs: [writer, reader-side socket of the relay] and [relay destination, reader]. */
async function pairs(n: number): Promise<[Socket, Socket][]> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const out: [Socket, Socket][] = [];
  for (let i = 0; i < n; i += 1) {
    const accepted = new Promise<Socket>((r) => server.once('connection', r));
    const c = connect({ host: '127.0.0.1', port });
    await new Promise((r) => c.once('connect', r));
    out.push([c, await accepted]);
  }
  server.close();
  return out;
}

interface RawAddon {
  start(inFd: number, outFd: number, max: number, flags: number, intervalMs: number, pipeBytes: number, onProgress: (n: number) => void, onDone: (code: string | null, n: number, eof: boolean) => void): object;
}

function fdOf(s: Socket): number {
  return (s as unknown as { _handle: { fd: number } })._handle.fd;
}

async function gc(): Promise<unknown> {
  const st = zeroCopyStatus();
  if (!st.available) return { skipped: st.reason };
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return { skipped: 'no --expose-gc' };
  const m: { exports: unknown } = { exports: {} };
  process.dlopen(m, st.path);
  const addon = m.exports as RawAddon;
  const N = 16;
  const ins = await pairs(N);
  const outs = await pairs(N);
  const fds0 = openFds();
  const pipes0 = pipes();
  let collected = 0;
  const registry = new FinalizationRegistry(() => (collected += 1));
  const done: Promise<string>[] = [];
  for (let i = 0; i < N; i += 1) {
    const [writer, src] = ins[i] as [Socket, Socket];
    const [dst, reader] = outs[i] as [Socket, Socket];
    stopReading(src);
    const got = collect(reader, 20_000);
    done.push(
      new Promise<string>((resolve) => {
        // Neither callback refers to the handle: only the addon's own reference keeps the relay alive.
        registry.register(
          addon.start(fdOf(src), fdOf(dst), -1, 1, 50, 256 * 1024, () => undefined, (code, n) => {
            void got.then((g) => resolve(code !== null ? `error ${code}` : n !== BODY.length ? `moved ${n}` : g.data.length === BODY.length && sha(g.data) === sha(BODY) ? 'ok' : `reader got ${g.data.length}`));
            dst.destroy();
          }),
          i,
        );
      }),
    );
    void writer;
  }
  // The handles are garbage now: collect them before and while the bytes move.
  for (let k = 0; k < 5; k += 1) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const timer = setInterval(() => gc(), 5);
  for (const [writer] of ins) {
    writer.on('error', () => undefined);
    writer.end(BODY);
  }
  const results = await Promise.all(done);
  clearInterval(timer);
  gc();
  await new Promise((r) => setTimeout(r, 50));
  // The relays closed their own descriptors; the sockets (and so their descriptors) are still open here.
  const fdsAfter = openFds();
  const pipesAfter = pipes();
  for (const [a, b] of [...ins, ...outs]) {
    a.destroy();
    b.destroy();
  }
  return { results, collected, fdsBefore: fds0, fdsAfter, pipesBefore: pipes0, pipesAfter };
}

async function throwing(): Promise<unknown> {
  const st = zeroCopyStatus();
  if (!st.available) return { skipped: st.reason };
  const [[writer, src]] = (await pairs(1)) as [[Socket, Socket]];
  const [[dst, reader]] = (await pairs(1)) as [[Socket, Socket]];
  const got = collect(reader, 10_000);
  stopReading(src);
  const warnings: string[] = [];
  process.on('warning', (w: Error & { code?: string }) => warnings.push(w.code ?? w.name));
  let called = 0;
  const r = startRelay(src, dst, {
    max: BODY.length,
    halfClose: false,
    onDone: () => {
      called += 1;
      dst.end();
      throw new Error('a bug in the caller');
    },
  });
  writer.write(BODY);
  const g = await got;
  await new Promise((res) => setTimeout(res, 50));
  writer.destroy();
  src.destroy();
  return { started: r !== undefined, called, ok: g.data.length === BODY.length && sha(g.data) === sha(BODY), caught: relayCallbackErrors.length, warnings };
}

async function relay(): Promise<unknown> {
  const st = zeroCopyStatus();
  if (!st.available) return { skipped: st.reason };
  const [[writer, src]] = (await pairs(1)) as [[Socket, Socket]];
  const [[dst, reader]] = (await pairs(1)) as [[Socket, Socket]];
  const got = collect(reader, 10_000);
  stopReading(src);
  const big = Buffer.concat([BODY, BODY]);
  const end = new Promise<string>((resolve) => {
    const r = startRelay(src, dst, { max: -1, halfClose: true, pipeBytes: MIB, onDone: (e) => resolve(e.error ?? `moved ${e.moved}`) });
    if (r === undefined) resolve('not started');
  });
  writer.end(big);
  const [e, g] = await Promise.all([end, got]);
  writer.destroy();
  src.destroy();
  return { end: e, ok: g.data.length === big.length && sha(g.data) === sha(big), uid: process.getuid?.() };
}

/**
 * Exactly `max` bytes from a source that stays open afterwards (a kept-alive upstream), on the addon at argv[3] (a
 * build with a small per-wake-up budget, so the last write of a relay crosses it): each relay must finish.
 */
async function budget(): Promise<unknown> {
  const file = process.argv[3] ?? '';
  const m: { exports: unknown } = { exports: {} };
  process.dlopen(m, file);
  const addon = m.exports as RawAddon;
  const results: string[] = [];
  for (const max of [MIB, 2 * MIB + 12345]) {
    const [[writer, src]] = (await pairs(1)) as [[Socket, Socket]];
    const [[dst, reader]] = (await pairs(1)) as [[Socket, Socket]];
    stopReading(src);
    reader.resume();
    writer.write(Buffer.alloc(max));
    results.push(
      await new Promise<string>((resolve) => {
        const t = setTimeout(() => resolve('no end within 3 s'), 3000);
        addon.start(fdOf(src), fdOf(dst), max, 0, 250, MIB, () => undefined, (code, n) => {
          clearTimeout(t);
          resolve(code ?? `moved ${n === max ? 'max' : n}`);
        });
      }),
    );
    for (const s of [writer, src, dst, reader]) s.destroy();
  }
  return { results };
}

const scenarios: Record<string, () => Promise<unknown>> = { fds, gc, throw: throwing, relay, budget };
const run = scenarios[process.argv[2] ?? ''];
if (run === undefined) {
  process.stderr.write(`usage: zero-copy-child.ts ${Object.keys(scenarios).join('|')}\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await run())}\n`);
process.exit(0);
