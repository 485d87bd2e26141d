/**
 * Egress proxy benchmark on loopback, side by side with direct:
 * 100 MB download throughput, p50 latency of small keep-alive requests, and
 * proxy RSS with 500 concurrent client connections; and a 100 MB HTTPS
 * download through CONNECT with TLS inspection (decrypt, decide, re-encrypt)
 * against HTTPS direct.
 * Usage: node --import tsx bench/egress/run.ts [MB]
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { request as tlsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { makePki } from '../../test/egress/tls-fixture.js';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const MB = Number(process.argv[2] ?? '100');
const DIR = mkdtempSync(path.join(tmpdir(), 'cordon-bench-'));
const CHILD = fileURLToPath(new URL('./children.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

async function child(role: string): Promise<{ port: number; proc: ChildProcessByStdio<null, Readable, null> }> {
  const proc = spawn(process.execPath, ['--import', TSX, CHILD, role], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BIG_MB: String(MB), BENCH_DIR: DIR } });
  process.once('exit', () => proc.kill());
  const port = await new Promise<number>((resolve) => proc.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { port, proc };
}

interface Via { readonly port: number; readonly path: (p: string) => string }

function get(via: Via, path: string, agent: Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: via.port, path: via.path(path), agent }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => resolve(n));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function throughput(via: Via): Promise<number> {
  let best = 0;
  for (let i = 0; i < 3; i += 1) {
    const t = process.hrtime.bigint();
    const n = await get(via, '/big', false);
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    best = Math.max(best, n / 1e6 / s);
  }
  return best;
}

async function p50(via: Via, n = 2000): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  for (let i = 0; i < n + 200; i += 1) {
    const t = process.hrtime.bigint();
    await get(via, '/small', agent);
    if (i >= 200) times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** GET /big over HTTPS: direct (verified with the test CA) or through a CONNECT tunnel (verified with the session CA). */
function tlsGet(upPort: number, proxyPort: number | undefined, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const go = (createConnection?: () => ReturnType<typeof tlsConnect>): void => {
      // Through the proxy the TLS socket is made here (over the tunnel); plain http.request then speaks HTTP on it.
      // (createConnection is ignored when an agent is given, even `agent: false`.)
      const opts = { host: '127.0.0.1', port: upPort, path: '/big' };
      const req = (createConnection === undefined ? tlsRequest({ ...opts, ca, agent: false }, onRes) : request({ ...opts, createConnection }, onRes));
      function onRes(res: IncomingMessage): void {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => resolve(n));
        res.on('error', reject);
      }
      req.on('error', reject);
      req.end();
    };
    if (proxyPort === undefined) return go();
    const s = connect({ host: '127.0.0.1', port: proxyPort });
    s.write(`CONNECT 127.0.0.1:${upPort} HTTP/1.1\r\nHost: 127.0.0.1:${upPort}\r\n\r\n`);
    s.once('data', () => go(() => tlsConnect({ socket: s, ca, host: '127.0.0.1' })));
    s.on('error', reject);
  });
}

async function tlsThroughput(upPort: number, proxyPort: number | undefined, ca: string): Promise<number> {
  let best = 0;
  for (let i = 0; i < 3; i += 1) {
    const t = process.hrtime.bigint();
    const n = await tlsGet(upPort, proxyPort, ca);
    best = Math.max(best, n / 1e6 / (Number(process.hrtime.bigint() - t) / 1e9));
  }
  return best;
}

const pki = makePki();
writeFileSync(path.join(DIR, 'ca.pem'), pki.ca);
writeFileSync(path.join(DIR, 'key.pem'), pki.key);
writeFileSync(path.join(DIR, 'cert.pem'), pki.cert);
const up = await child('upstream');
const px = await child('proxy');
const direct: Via = { port: up.port, path: (p) => p };
const proxied: Via = { port: px.port, path: (p) => `http://127.0.0.1:${up.port}${p}` };

const dT = await throughput(direct);
const pT = await throughput(proxied);
const dL = await p50(direct);
const pL = await p50(proxied);
const idle = rssMb(px.proc.pid ?? 0);
const agent = new Agent({ keepAlive: true, maxSockets: 500 });
await Promise.all(Array.from({ length: 500 }, () => get(proxied, '/small', agent)));
const held = rssMb(px.proc.pid ?? 0);
agent.destroy();

const tup = await child('tls-upstream');
const tpx = await child('tls-proxy');
const tD = await tlsThroughput(tup.port, undefined, pki.ca);
const tP = await tlsThroughput(tup.port, tpx.port, readFileSync(path.join(DIR, 'session-ca.pem'), 'utf8'));

const row = (name: string, d: string, p: string, note: string): string => `${name.padEnd(34)}${d.padStart(12)}${p.padStart(12)}   ${note}`;
process.stdout.write(`${row('', 'direct', 'via proxy', '')}\n`);
process.stdout.write(`${row(`${MB} MB HTTP download (MB/s, best of 3)`, dT.toFixed(0), pT.toFixed(0), `${((pT / dT) * 100).toFixed(0)}% of direct (target >= 50%)`)}\n`);
process.stdout.write(`${row(`${MB} MB HTTPS, inspected (MB/s, best of 3)`, tD.toFixed(0), tP.toFixed(0), `${((tP / tD) * 100).toFixed(0)}% of direct HTTPS (TLS terminated and re-encrypted)`)}\n`);
process.stdout.write(`${row('small keep-alive request p50 (ms)', dL.toFixed(3), pL.toFixed(3), `+${(pL - dL).toFixed(3)} ms (target <= 0.3)`)}\n`);
process.stdout.write(`${row('proxy RSS idle / 500 conns (MB)', '', `${idle.toFixed(0)} / ${held.toFixed(0)}`, 'target <= 150 MB')}\n`);
for (const c of [up, px, tup, tpx]) c.proc.kill();
