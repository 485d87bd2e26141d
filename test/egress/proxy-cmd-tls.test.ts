/**
 * `cordon proxy` alone (the real CLI process, from source): the DLP scanner on
 * requests and TLS inspection with a CA made in the proxy process, whose
 * certificate only is written to `--ca-out`. A local HTTPS upstream with a
 * test CA (trusted by the proxy through CORDON_EGRESS_EXTRA_CA, as in cordon
 * run); clients trust only the written CA file. Each refusal is checked on
 * both sides: the 403 and what the upstream saw.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { cordon, cordonAsync, DIST_BIN, distBuilt, type CliResult } from '../cli-helpers.js';
import { makePki, type TestPki } from './tls-fixture.js';

const SECRET = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');

interface Seen {
  readonly server: HttpsServer | HttpServer;
  readonly port: number;
  /** `METHOD url body` of every request received. */
  readonly seen: string[];
}

async function upstream(pki: TestPki | undefined): Promise<Seen> {
  const seen: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push(`${req.method ?? ''} ${req.url ?? ''} ${body}`.trimEnd());
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`upstream got ${req.method ?? ''} ${req.url ?? ''}`);
    });
  };
  const server = pki === undefined ? createHttpServer(handler) : createHttpsServer({ key: pki.key, cert: pki.cert }, handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

/** CONNECT through the proxy, TLS trusting only `ca` (SNI omitted: an IP), one request; everything until close. */
function viaTunnel(proxyPort: number, target: string, ca: string, request: string): Promise<{ connect: string; response?: string; tlsError?: string }> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: proxyPort });
    s.on('error', () => undefined);
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    let head = '';
    const onData = (c: Buffer): void => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      if (!head.startsWith('HTTP/1.1 200')) {
        s.on('close', () => resolve({ connect: head }));
        return;
      }
      const t = tlsConnect({ socket: s, ca, host: target.slice(0, target.lastIndexOf(":")) }, () => t.write(request));
      let response = '';
      t.on('data', (d: Buffer) => (response += d.toString('latin1')));
      t.on('close', () => resolve({ connect: head, response }));
      t.on('error', (e: Error) => resolve({ connect: head, tlsError: e.message }));
    };
    s.on('data', onData);
  });
}

/** One absolute-form request through the proxy; the whole response until close. */
function viaProxy(proxyPort: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: proxyPort });
    let out = '';
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.write(request);
  });
}

const post = (target: string, p: string, body: string): string =>
  `POST ${target}${p} HTTP/1.1\r\nHost: ${new URL(target === '' ? 'http://x' : target).host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;

interface RunningCli {
  readonly port: number;
  readonly stderr: () => string;
  stop(): Promise<CliResult>;
}

/** A port free on 127.0.0.1 a moment ago (`--listen` takes no port 0). */
async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts `cordon proxy ARGS` in `ws` and waits for its listening line. */
async function startCli(args: readonly string[], ws: string, env: NodeJS.ProcessEnv): Promise<RunningCli> {
  const { child, done } = cordonAsync(['proxy', '--listen', `127.0.0.1:${await freePort()}`, '--socks', 'off', ...args], ws, env);
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cordon proxy did not start:\n${err}`)), 30_000);
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /cordon proxy: HTTP 127\.0\.0\.1:(\d+)/.exec(err);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void done.then((r) => {
      clearTimeout(timer);
      reject(new Error(`cordon proxy exited ${String(r.status)}:\n${r.stderr}`));
    });
  });
  return {
    port,
    stderr: () => err,
    stop: () => {
      child.kill('SIGTERM');
      return done;
    },
  };
}

void describe('cordon proxy (standalone): DLP and TLS inspection', () => {
  let pki: TestPki;
  let tlsUp: Seen;
  let plainUp: Seen;
  let root = '';
  let ws = '';
  let state = '';
  let caFile = '';
  let cli: RunningCli | undefined;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    pki = makePki();
    tlsUp = await upstream(pki);
    plainUp = await upstream(undefined);
    root = mkdtempSync(path.join(os.tmpdir(), 'cordon-proxy-cmd-'));
    ws = path.join(root, 'ws');
    state = path.join(root, 'state');
    mkdirSync(ws);
    writeFileSync(path.join(root, 'test-ca.pem'), pki.ca);
    writeFileSync(path.join(ws, 'cordon.yaml'), `version: 1\npermissions:\n  deny: ["Http(GET 127.0.0.1:${tlsUp.port}/admin)"]\n  allow: ["Net(127.0.0.1:${tlsUp.port})", "Net(127.0.0.1:${plainUp.port})"]\n`);
    caFile = path.join(root, 'out', 'cordon-ca.pem');
    mkdirSync(path.dirname(caFile));
    env = { XDG_STATE_HOME: state, CORDON_EGRESS_EXTRA_CA: path.join(root, 'test-ca.pem') };
    cli = await startCli(['--ca-out', caFile], ws, env);
  });
  const running = (): RunningCli => {
    if (cli === undefined) throw new Error('cordon proxy did not start');
    return cli;
  };
  after(async () => {
    await cli?.stop();
    tlsUp.server.closeAllConnections();
    plainUp.server.closeAllConnections();
    await new Promise<void>((r) => tlsUp.server.close(() => r()));
    await new Promise<void>((r) => plainUp.server.close(() => r()));
    rmSync(root, { recursive: true, force: true });
  });

  void it('writes only the CA certificate (EC P-256, a CA, mode 0644, no private key) and says how clients trust it', () => {
    const text = readFileSync(caFile, 'utf8');
    assert.doesNotMatch(text, /PRIVATE KEY/);
    assert.equal((text.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length, 1);
    const cert = new X509Certificate(text);
    assert.equal(cert.ca, true);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(statSync(caFile).mode & 0o777, 0o644);
    assert.match(running().stderr(), /TLS inspected, DLP on/);
    assert.match(running().stderr(), new RegExp(`NODE_EXTRA_CA_CERTS=${caFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(running().stderr(), /SSL_CERT_FILE/);
  });

  void it('an HTTPS request carrying a secret is refused with 403 inside the inspected tunnel; the upstream saw nothing', async () => {
    const target = `127.0.0.1:${tlsUp.port}`;
    const before = tlsUp.seen.length;
    const body = JSON.stringify({ note: `aws ${SECRET}` });
    const r = await viaTunnel(running().port, target, readFileSync(caFile, 'utf8'), `POST /notes HTTP/1.1\r\nHost: ${target}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    assert.equal(r.tlsError, undefined);
    assert.match(r.connect, /^HTTP\/1\.1 200 /);
    assert.match(r.response ?? '', /^HTTP\/1\.1 403 /);
    assert.match(r.response ?? '', /X-Cordon-Decision: deny/);
    assert.match(r.response ?? '', /DLP finding/);
    assert.equal(tlsUp.seen.length, before, tlsUp.seen.join('\n'));
  });

  void it('a clean HTTPS request passes (the client trusts only the written CA; the proxy verified the upstream with the extra CA)', async () => {
    const target = `127.0.0.1:${tlsUp.port}`;
    const body = JSON.stringify({ note: 'nothing secret here' });
    const r = await viaTunnel(running().port, target, readFileSync(caFile, 'utf8'), `POST /notes HTTP/1.1\r\nHost: ${target}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    assert.equal(r.tlsError, undefined);
    assert.match(r.response ?? '', /^HTTP\/1\.1 200 /);
    assert.match(r.response ?? '', /upstream got POST \/notes/);
    assert.ok(tlsUp.seen.includes(`POST /notes ${body}`), tlsUp.seen.join('\n'));
  });

  void it('an Http deny rule refuses one path inside the tunnel (decided per request); the upstream never sees it', async () => {
    const target = `127.0.0.1:${tlsUp.port}`;
    const r = await viaTunnel(running().port, target, readFileSync(caFile, 'utf8'), `GET /admin HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`);
    assert.match(r.response ?? '', /^HTTP\/1\.1 403 /);
    assert.match(r.response ?? '', /X-Cordon-Rule: deny Http\(GET /);
    assert.ok(!tlsUp.seen.some((s) => s.startsWith('GET /admin')));
  });

  void it('plain HTTP: a body with a secret is refused, a clean one passes; the upstream saw only the clean one', async () => {
    const url = `http://127.0.0.1:${plainUp.port}`;
    const blocked = await viaProxy(running().port, post(url, '/up', JSON.stringify({ key: SECRET })));
    assert.match(blocked, /^HTTP\/1\.1 403 /);
    assert.match(blocked, /DLP finding/);
    const ok = await viaProxy(running().port, post(url, '/up', '{"a":1}'));
    assert.match(ok, /^HTTP\/1\.1 200 /);
    assert.deepEqual(plainUp.seen, ['POST /up {"a":1}']);
  });

  void it('records the decisions in its audit session', () => {
    const dir = path.join(state, 'cordon');
    const log = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('');
    assert.match(log, /"subject":"Net\(127\.0\.0\.1:\d+\)","decision":"allow","rule":"tls inspection"/);
    assert.match(log, /"subject":"Http\(POST 127\.0\.0\.1:\d+\/notes\)","decision":"deny"[^\n]*DLP/);
    assert.doesNotMatch(log, new RegExp(SECRET), 'the secret itself is not in the log');
  });
});

void describe('cordon proxy (standalone): --no-inspect and --ca-out checks', () => {
  let pki: TestPki;
  let tlsUp: Seen;
  let root = '';
  let ws = '';
  before(async () => {
    pki = makePki();
    tlsUp = await upstream(pki);
    root = mkdtempSync(path.join(os.tmpdir(), 'cordon-proxy-cmd-'));
    ws = path.join(root, 'ws');
    mkdirSync(ws);
    writeFileSync(path.join(ws, 'cordon.yaml'), `version: 1\npermissions:\n  allow: ["Net(127.0.0.1:${tlsUp.port})"]\n`);
  });
  after(async () => {
    tlsUp.server.closeAllConnections();
    await new Promise<void>((r) => tlsUp.server.close(() => r()));
    rmSync(root, { recursive: true, force: true });
  });

  void it('--no-inspect keeps tunnels opaque: the client sees the upstream\'s own certificate, no CA file is needed', async () => {
    const cli = await startCli(['--no-inspect'], ws, { XDG_STATE_HOME: path.join(root, 'state') });
    try {
      assert.match(cli.stderr(), /tunnels opaque, DLP on/);
      const target = `127.0.0.1:${tlsUp.port}`;
      const r = await viaTunnel(cli.port, target, pki.ca, `GET /plain HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`);
      assert.equal(r.tlsError, undefined, 'the upstream\'s test CA verifies: nothing in between');
      assert.match(r.response ?? '', /upstream got GET \/plain/);
    } finally {
      await cli.stop();
    }
  });

  void it('egress.tls.passthrough applies as in run: a passthrough host\'s tunnel is not inspected (the upstream\'s own certificate)', async () => {
    const pws = path.join(root, 'pws');
    mkdirSync(pws);
    writeFileSync(path.join(pws, 'cordon.yaml'), `version: 1\npermissions:\n  allow: ["Net(127.0.0.1:${tlsUp.port})"]\negress:\n  tls:\n    passthrough: ["127.0.0.1"]\n`);
    const caOut = path.join(root, 'passthrough-ca.pem');
    const cli = await startCli(['--ca-out', caOut], pws, { XDG_STATE_HOME: path.join(root, 'state') });
    try {
      assert.match(cli.stderr(), /TLS inspected, DLP on/);
      const target = `127.0.0.1:${tlsUp.port}`;
      const r = await viaTunnel(cli.port, target, pki.ca, `GET /pinned HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`);
      assert.equal(r.tlsError, undefined, 'the client trusting only the upstream\'s CA verifies: nothing in between');
      assert.match(r.response ?? '', /upstream got GET \/pinned/);
    } finally {
      await cli.stop();
    }
  });

  const env = (): NodeJS.ProcessEnv => ({ XDG_STATE_HOME: path.join(root, 'state') });
  const args = (out: string): string[] => ['proxy', '--listen', '127.0.0.1:1',  '--socks', 'off', '--workspace', ws, '--ca-out', out];

  void it('the built CLI (dist/bin, esbuild) starts with inspection and writes the CA certificate', { skip: distBuilt() ? false : 'dist/ is not built (npm run build)' }, async () => {
    const caOut = path.join(root, 'dist-ca.pem');
    const child = spawn(process.execPath, [DIST_BIN, 'proxy', '--listen', `127.0.0.1:${await freePort()}`, '--socks', 'off', '--ca-out', caOut], {
      cwd: ws, env: { ...process.env, XDG_STATE_HOME: path.join(root, 'state'), CORDON_MANAGED_POLICY: '/nonexistent/m.yaml', XDG_CONFIG_HOME: '/nonexistent/xdg' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const status = await new Promise<string>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/cordon proxy: HTTP /.test(err)) resolve('listening');
      });
      child.on('close', (code) => resolve(`exited ${String(code)}`));
    });
    child.kill('SIGTERM');
    assert.equal(status, 'listening', err);
    assert.match(err, /TLS inspected/);
    assert.equal(new X509Certificate(readFileSync(caOut, 'utf8')).ca, true);
  });

  void it('inspection without --ca-out is a usage error', () => {
    const r = cordon(['proxy', '--listen', '127.0.0.1:1', '--socks', 'off', '--workspace', ws], { cwd: ws, env: env() });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /needs --ca-out FILE/);
  });

  void it('--ca-out refuses a symlink (not followed), a directory and a FIFO, and leaves them as they were', () => {
    const victim = path.join(root, 'victim.txt');
    writeFileSync(victim, 'keep me\n');
    const link = path.join(root, 'link.pem');
    symlinkSync(victim, link);
    const r1 = cordon(args(link), { cwd: ws, env: env() });
    assert.equal(r1.status, 2, r1.stderr);
    assert.match(r1.stderr, /symbolic link/);
    assert.equal(readFileSync(victim, 'utf8'), 'keep me\n');
    const dir = path.join(root, 'adir');
    mkdirSync(dir);
    const r2 = cordon(args(dir), { cwd: ws, env: env() });
    assert.equal(r2.status, 2, r2.stderr);
    assert.match(r2.stderr, /not a regular file/);
    const fifo = path.join(root, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const r3 = cordon(args(fifo), { cwd: ws, env: env() });
    assert.equal(r3.status, 2, r3.stderr);
    assert.match(r3.stderr, /not a regular file/);
    assert.ok(statSync(fifo).isFIFO());
  });
});
