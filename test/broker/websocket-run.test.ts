/**
 * WebSocket upgrades through the credential broker, in a real `cordon run`:
 * a WebSocket server over TLS on loopback (test CA) records the Authorization
 * header of each upgrade, echoes it back (in a response header and a first
 * frame) and echoes every text frame. Inside the sandbox a tiny client
 * (node, `net` + `tls`, through the proxy's CONNECT and TLS inspection)
 * upgrades with the placeholder. Checks: the upstream got the real value; the
 * agent saw only the placeholder (also in the echoes); frames flow and are
 * still scanned (a secret or the placeholder in a frame closes with 1008 and
 * the upstream never sees it); the placeholder in an upgrade to another host
 * is refused as exfiltration and that host sees nothing; no real value in the
 * audit log. The broker alone (in this process): a non-101 answer is passed
 * back (redacted) and the connection closed; an unverifiable or unreachable
 * upstream is a 502; a host outside the credential's is refused unreached.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DecisionEvent } from '../../src/audit/record.js';
import { compileHost } from '../../src/broker/hosts.js';
import { startBroker, type RunningBroker } from '../../src/broker/server.js';
import { encodeFrame, FrameReader, OPCODE } from '../../src/egress/ws-frame.js';
import { cordonAsync } from '../cli-helpers.js';
import { makePki, type TestPki } from '../egress/tls-fixture.js';

const hasBwrap = ['/usr/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));
const skip = !hasBwrap ? 'bubblewrap is not installed' : false;

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const rand = (n: number): string => [...randomBytes(n)].map((b) => B62.charAt(b % B62.length)).join('');
/** An AWS key id the DLP detects (split so this file holds none whole). */
const DLP_SECRET = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');

interface WsSeen {
  readonly upgrades: { url: string; authorization: string }[];
  readonly messages: string[];
  connections: number;
  readonly sockets: Set<Socket>;
}

/** A TLS WebSocket server: records upgrades and messages, answers with the Authorization it got (header and first frame), echoes text. */
function wsServer(pki: TestPki, seen: WsSeen): Server {
  const server = createServer({ key: pki.key, cert: pki.cert });
  server.on('secureConnection', () => (seen.connections += 1));
  server.on('request', (_req, res) => res.writeHead(400).end('websocket only\n'));
  server.on('upgrade', (req, socket: Socket) => {
    const authorization = String(req.headers.authorization ?? '');
    seen.upgrades.push({ url: req.url ?? '', authorization });
    seen.sockets.add(socket);
    socket.once('close', () => seen.sockets.delete(socket));
    socket.on('error', () => undefined);
    if (req.url === '/refuse') {
      // Not upgraded: an answer that echoes the credential, then the connection closes.
      const body = `no upgrade for ${authorization}\n`;
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Length: ${body.length}\r\nX-Echo-Auth: ${authorization}\r\n\r\n${body}`);
      return;
    }
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key'] ?? ''}${GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Echo-Auth: ${authorization}\r\n\r\n`);
    if (req.url === '/split') {
      // The credential echoed in a frame written in two parts, split inside the value, 10 ms apart.
      const frame = encodeFrame({ opcode: OPCODE.text, payload: Buffer.from(`auth=${authorization} END`) });
      const cut = frame.indexOf(authorization) + 12;
      socket.write(frame.subarray(0, cut));
      setTimeout(() => socket.write(frame.subarray(cut)), 10);
      return;
    }
    socket.write(encodeFrame({ opcode: OPCODE.text, payload: Buffer.from(`auth=${authorization}`) }));
    const r = new FrameReader({ masked: true, maxFrameBytes: 1 << 20, deflate: false });
    socket.on('data', (c: Buffer) => {
      r.push(c);
      for (let x = r.next(); x.kind === 'frame'; x = r.next()) {
        if (x.frame.opcode === OPCODE.close) {
          socket.end();
          return;
        }
        if (x.frame.opcode !== OPCODE.text) continue;
        const text = x.frame.payload.toString();
        seen.messages.push(text);
        socket.write(encodeFrame({ opcode: OPCODE.text, payload: Buffer.from(`echo ${text}`) }));
      }
    });
  });
  return server;
}

/**
 * The in-sandbox client (plain node): CONNECT through $HTTPS_PROXY, TLS with the sandbox's CA bundle,
 * the upgrade with `Authorization: Bearer <token>`, then each message in turn; prints what it got.
 * argv: tag host port token message...
 */
const CLIENT = String.raw`
import net from 'node:net';
import tls from 'node:tls';
import crypto from 'node:crypto';
import fs from 'node:fs';
const [tag, host, port, token, ...messages] = process.argv.slice(2);
const say = (s) => process.stdout.write(tag + ' ' + s.replace(/[\r\n]/g, ' ') + '\n');
const proxy = new URL(process.env.HTTPS_PROXY);
let buf = Buffer.alloc(0);
let waiting;
const more = () => new Promise((r) => (waiting = r));
const feed = (c) => { buf = Buffer.concat([buf, c]); if (waiting) { const w = waiting; waiting = undefined; w(); } };
async function headOf() {
  for (;;) { const end = buf.indexOf('\r\n\r\n'); if (end >= 0) { const h = buf.subarray(0, end).toString('latin1'); buf = buf.subarray(end + 4); return h; } await more(); }
}
async function frame() {
  for (;;) {
    if (buf.length >= 2) {
      let len = buf[1] & 0x7f; let at = 2;
      if (len === 126) { if (buf.length < 4) { await more(); continue; } len = buf.readUInt16BE(2); at = 4; }
      else if (len === 127) { if (buf.length < 10) { await more(); continue; } len = Number(buf.readBigUInt64BE(2)); at = 10; }
      if (buf.length >= at + len) { const f = { op: buf[0] & 0x0f, payload: buf.subarray(at, at + len) }; buf = buf.subarray(at + len); return f; }
    }
    await more();
  }
}
function send(s, text) {
  const p = Buffer.from(text); const mask = crypto.randomBytes(4);
  const head = p.length < 126 ? Buffer.from([0x81, 0x80 | p.length]) : Buffer.from([0x81, 0x80 | 126, p.length >> 8, p.length & 0xff]);
  const m = Buffer.from(p.map((b, i) => b ^ mask[i % 4]));
  s.write(Buffer.concat([head, mask, m]));
}
const closed = { v: false };
const raw = net.connect(Number(proxy.port), proxy.hostname);
raw.on('data', feed);
raw.on('close', () => { closed.v = true; feed(Buffer.alloc(0)); });
raw.write('CONNECT ' + host + ':' + port + ' HTTP/1.1\r\nHost: ' + host + ':' + port + '\r\n\r\n');
const ch = await headOf();
if (!/^HTTP\/1\.[01] 200/.test(ch)) { say('connect=' + ch.split('\r\n')[0]); process.exit(0); }
raw.off('data', feed);
const s = tls.connect({ socket: raw, host, ca: fs.readFileSync(process.env.SSL_CERT_FILE) });
s.on('data', feed);
s.on('error', (e) => say('error=' + e.message));
s.on('close', () => { closed.v = true; feed(Buffer.alloc(0)); });
s.write('GET /chat HTTP/1.1\r\nHost: ' + host + ':' + port + '\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ' + crypto.randomBytes(16).toString('base64') + '\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ' + token + '\r\n\r\n');
const head = await Promise.race([headOf(), new Promise((r) => setTimeout(() => r('timeout'), 20000))]);
say('status=' + (head.split('\r\n')[0].split(' ')[1] ?? '?'));
const echoed = head.split('\r\n').find((l) => /^x-echo-auth:/i.test(l));
if (echoed !== undefined) say('header=' + echoed.slice(echoed.indexOf(':') + 1).trim());
if (!head.includes(' 101 ')) { s.destroy(); process.exit(0); }
const next = async () => {
  const f = await Promise.race([frame(), new Promise((r) => setTimeout(() => r(undefined), 10000))]);
  if (f === undefined) { say('timeout'); process.exit(0); }
  if (f.op === 8) { say('close=' + f.payload.readUInt16BE(0)); s.destroy(); process.exit(0); }
  say('got=' + f.payload.toString());
};
await next();
for (const m of messages) { send(s, m); await next(); }
s.destroy();
`;

void describe('cordon run: WebSocket upgrades through the credential broker', { skip }, () => {
  let pki: TestPki;
  let good: Server;
  let other: Server;
  const seenGood: WsSeen = { upgrades: [], messages: [], connections: 0, sockets: new Set() };
  const seenOther: WsSeen = { upgrades: [], messages: [], connections: 0, sockets: new Set() };
  let root = '';
  const REAL = `ghp_${rand(36)}`;

  before(async () => {
    pki = makePki();
    good = wsServer(pki, seenGood);
    other = wsServer(pki, seenOther);
    await Promise.all([good, other].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
    root = mkdtempSync(path.join(os.tmpdir(), 'cordon-bws-'));
    writeFileSync(path.join(root, 'test-ca.pem'), pki.ca);
  });
  after(async () => {
    for (const s of [...seenGood.sockets, ...seenOther.sockets]) s.destroy();
    await Promise.all([good, other].map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  void it('swaps the placeholder in the upgrade, relays and still scans frames, refuses other hosts', { timeout: 180_000 }, async () => {
    const ws = path.join(root, 'ws');
    mkdirSync(ws);
    const goodPort = (good.address() as AddressInfo).port;
    const otherPort = (other.address() as AddressInfo).port;
    writeFileSync(path.join(ws, 'cordon.yaml'), [
      'version: 1',
      'permissions:',
      `  allow: ["Net(127.0.0.1:${goodPort})", "Net(127.0.0.1:${otherPort})"]`,
      'credentials:',
      `  TEST_WS_TOKEN: { hosts: ["127.0.0.1:${goodPort}"], header: authorization }`,
      '',
    ].join('\n'));
    writeFileSync(path.join(ws, 'client.mjs'), CLIENT);
    const state = path.join(root, 'state');
    const script = [
      `node client.mjs flow 127.0.0.1 ${goodPort} "$TEST_WS_TOKEN" hello "second message"`,
      `node client.mjs dlp 127.0.0.1 ${goodPort} "$TEST_WS_TOKEN" before "key ${DLP_SECRET}" after`,
      `node client.mjs frame 127.0.0.1 ${goodPort} "$TEST_WS_TOKEN" before "token $TEST_WS_TOKEN" after`,
      `node client.mjs other 127.0.0.1 ${otherPort} "$TEST_WS_TOKEN" hello`,
      'printf "%s\\n" "$TEST_WS_TOKEN" > placeholder.txt',
    ].join('\n');
    const r = await cordonAsync(['run', '--accept-trifecta', '--', 'sh', '-c', script], ws, {
      XDG_STATE_HOME: state, CORDON_EGRESS_EXTRA_CA: path.join(root, 'test-ca.pem'), TEST_WS_TOKEN: REAL,
    }).done;
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    const placeholder = readFileSync(path.join(ws, 'placeholder.txt'), 'utf8').trim();
    assert.ok(placeholder.startsWith('ghp_') && placeholder.length === REAL.length && placeholder !== REAL);
    // The upgrade reached the credential host with the real value; the agent got the placeholder back in the echoes.
    assert.match(out, /^flow status=101$/m, out);
    assert.equal(seenGood.upgrades[0]?.authorization, `Bearer ${REAL}`);
    assert.ok(seenGood.upgrades.length >= 1 && seenGood.upgrades.every((u) => u.authorization === `Bearer ${REAL}`));
    assert.ok(out.includes(`flow header=Bearer ${placeholder}\n`), out);
    assert.ok(out.includes(`flow got=auth=Bearer ${placeholder}\n`), out);
    // Frames flow both ways.
    assert.match(out, /^flow got=echo hello$/m);
    assert.match(out, /^flow got=echo second message$/m);
    // Frames are still scanned: a secret, or the placeholder, in a frame closes with 1008 and never reaches the upstream.
    assert.match(out, /^dlp got=echo before$/m);
    assert.match(out, /^dlp close=1008$/m);
    assert.match(out, /^frame got=echo before$/m);
    assert.match(out, /^frame close=1008$/m);
    assert.equal(seenGood.messages.some((m) => m.includes(DLP_SECRET) || m.includes(placeholder) || m.includes(REAL) || m === 'after'), false, `upstream messages: ${seenGood.messages.join(' | ')}`);
    // The placeholder in an upgrade to another host: refused as exfiltration; that host saw nothing.
    assert.match(out, /^other status=403$/m);
    assert.deepEqual(seenOther.upgrades, []);
    assert.equal(seenOther.connections, 0, 'the other host was not even connected to');
    // The sandbox never saw the real value, nor does the audit log hold it.
    assert.equal(out.includes(REAL), false);
    const log = readdirSync(path.join(state, 'cordon')).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(path.join(state, 'cordon', f), 'utf8')).join('');
    assert.equal(log.includes(REAL), false, 'no real value in the audit log');
    assert.match(log, /"boundary":"broker","subject":"Http\(GET 127\.0\.0\.1:\d+\/chat\)","decision":"allow","rule":"credentials TEST_WS_TOKEN","reason":"[^"]*WebSocket upgrade/);
    assert.match(log, new RegExp(`"subject":"Http\\(GET 127\\.0\\.0\\.1:${otherPort}/chat\\)","decision":"deny","rule":"credential placeholder outside its hosts","reason":"Exfiltration attempt:`));
  });
});

/** A raw upgrade request on the broker's socket: the whole answer up to the close, or the head of a 101 (then closed). */
function upgradeOn(socketPath: string, target: string, authorization: string, readFrames = false): Promise<string> {
  return new Promise((ok) => {
    const s = connect(socketPath);
    let got = Buffer.alloc(0);
    s.on('error', () => ok(got.toString('latin1')));
    s.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0 && got.subarray(0, 13).toString('latin1') === 'HTTP/1.1 101 ' && (!readFrames || got.includes(' END'))) {
        s.destroy();
        ok(got.toString('latin1'));
      }
    });
    s.on('close', () => ok(got.toString('latin1')));
    s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nAuthorization: ${authorization}\r\n\r\n`);
  });
}

void describe('broker server: WebSocket upgrades', () => {
  const PH = 'PH-0000000000000000000000';
  const REAL_V = 'RE-1111111111111111111111';
  let pki: TestPki;
  let up: Server;
  let port = 0;
  let deadPort = 0;
  const seen: WsSeen = { upgrades: [], messages: [], connections: 0, sockets: new Set() };
  const events: DecisionEvent[] = [];
  const brokers: RunningBroker[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-bwu-'));
  const start = async (name: string, withCa: boolean, hosts: string[]): Promise<string> => {
    const socketPath = path.join(dir, `${name}.sock`);
    brokers.push(await startBroker({
      socketPath, publish: (e) => events.push(e), ...(withCa ? { upstreamCa: pki.ca } : {}),
      credentials: [{ name: 'K', header: 'authorization', hosts: hosts.map((h) => compileHost('K', h)), placeholder: PH, real: REAL_V }],
    }));
    return socketPath;
  };
  before(async () => {
    pki = makePki();
    up = wsServer(pki, seen);
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    port = (up.address() as AddressInfo).port;
    // A port with nothing listening: bound, then closed.
    const tmp = createTcpServer();
    await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
    deadPort = (tmp.address() as AddressInfo).port;
    await new Promise<void>((r) => tmp.close(() => r()));
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    for (const s of seen.sockets) s.destroy();
    await new Promise<void>((r) => up.close(() => r()));
  });

  void it('passes the 101 back with the placeholder where the upstream echoes the real value', async () => {
    const s = await start('ok', true, [`127.0.0.1:${port}`]);
    const head = await upgradeOn(s, `https://127.0.0.1:${port}/chat`, `Bearer ${PH}`);
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.ok(head.includes(`X-Echo-Auth: Bearer ${PH}\r\n`), head);
    assert.equal(head.includes(REAL_V), false);
    assert.equal(seen.upgrades.at(-1)?.authorization, `Bearer ${REAL_V}`);
    assert.equal(events.at(-1)?.decision, 'allow');
  });
  void it('replaces a real value the upstream echoes in a frame, also split across two reads', async () => {
    const s = await start('split', true, [`127.0.0.1:${port}`]);
    const got = await upgradeOn(s, `https://127.0.0.1:${port}/split`, `Bearer ${PH}`, true);
    assert.ok(got.includes(`auth=Bearer ${PH} END`), got);
    assert.equal(got.includes(REAL_V), false);
    assert.equal(got.includes(REAL_V.slice(0, 8)), false, 'not even the part before the split');
  });
  void it('passes a non-101 answer back (redacted) and closes', async () => {
    const s = await start('refused', true, [`127.0.0.1:${port}`]);
    const answer = await upgradeOn(s, `https://127.0.0.1:${port}/refuse`, `Bearer ${PH}`);
    assert.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(answer, /\r\nConnection: close\r\n/);
    assert.ok(answer.endsWith(`no upgrade for Bearer ${PH}\n`), answer);
    assert.equal(answer.includes(REAL_V), false);
  });
  void it('fails closed: unverified TLS and an unreachable upstream are 502, another host is refused unreached', async () => {
    const before = seen.connections;
    const noCa = await start('noca', false, [`127.0.0.1:${port}`]);
    const a = await upgradeOn(noCa, `https://127.0.0.1:${port}/chat`, `Bearer ${PH}`);
    assert.match(a, /^HTTP\/1\.1 502 /);
    assert.match(a, /upstream connection failed/);
    const dead = await start('dead', true, [`127.0.0.1:${deadPort}`]);
    assert.match(await upgradeOn(dead, `https://127.0.0.1:${deadPort}/chat`, `Bearer ${PH}`), /^HTTP\/1\.1 502 [^]*ECONNREFUSED/);
    const scoped = await start('scoped', true, [`127.0.0.1:${deadPort}`]);
    const other = await upgradeOn(scoped, `https://127.0.0.1:${port}/chat`, `Bearer ${PH}`);
    assert.match(other, /^HTTP\/1\.1 403 [^]*is not a credential host/);
    const noPh = await upgradeOn(dead, `https://127.0.0.1:${deadPort}/chat`, 'Bearer nothing');
    assert.match(noPh, /^HTTP\/1\.1 403 /, 'no placeholder: refused');
    assert.equal(seen.upgrades.filter((u) => u.url === '/chat').length, 1, 'only the first test upgraded /chat');
    assert.equal(seen.connections, before, 'no TLS session completed (the unverified handshake was refused by the broker)');
    assert.ok(events.filter((e) => e.decision === 'deny').length >= 4);
  });
});
