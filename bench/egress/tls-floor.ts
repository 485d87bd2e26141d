/**
 * The floor of an inspecting proxy built on Node's TLS (bench/egress README,
 * stop 16): CONNECT, TLS terminated with a session-CA leaf, the request
 * passed on as it came over `tls.connect` to the upstream, and the
 * response relayed as cordon relays an inspected body (decrypted records
 * read with `onread` into 1 MiB chunks never read into twice, the records of
 * one turn of the event loop written to the client as one piece, the
 * upstream paused while 1 MiB waits behind a write). No HTTP parsing,
 * policy, DLP, timers or checks: a measuring instrument for loopback only,
 * started by children.ts as `tls-floor` (one request per tunnel).
 */
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { connect as tlsConnect, TLSSocket, type ConnectionOptions } from 'node:tls';
import { canonicalizeHost } from '../../src/egress/hostname.js';
import { SessionCa } from '../../src/egress/tls-ca.js';

const CHUNK = 1024 * 1024;
const MIN_FREE = 16 * 1024;

/** Relays one response from `up` (reading into chunks) to `client`. */
function relay(client: TLSSocket, port: number, roots: string, request: Buffer): void {
  let chunk = Buffer.allocUnsafe(CHUNK);
  let filled = 0;
  let run: Buffer | undefined;
  let runStart = 0;
  let runEnd = 0;
  let queued = false;
  let gathered: Buffer[] = [];
  let gatheredBytes = 0;
  let writing = false;
  let paused = false;
  let ending = false;
  const closeRun = (): void => {
    if (run !== undefined && runEnd > runStart) {
      gathered.push(run.subarray(runStart, runEnd));
      gatheredBytes += runEnd - runStart;
    }
    run = undefined;
  };
  const write = (): void => {
    if (writing) return;
    if (gathered.length === 0) {
      if (ending) client.end();
      return;
    }
    writing = true;
    const pieces = gathered;
    gathered = [];
    gatheredBytes = 0;
    pieces.forEach((p, i) => client.write(p, i === pieces.length - 1 ? written : undefined));
  };
  const flush = (): void => {
    queued = false;
    closeRun();
    write();
    if (writing && gatheredBytes >= CHUNK && !paused) {
      paused = true;
      up.pause();
    }
  };
  function written(): void {
    writing = false;
    write();
    if (paused) {
      paused = false;
      up.resume();
    }
  }
  const onread = {
    buffer: (): Buffer => {
      if (chunk.length - filled < MIN_FREE) {
        chunk = Buffer.allocUnsafe(CHUNK);
        filled = 0;
      }
      return chunk.subarray(filled);
    },
    callback: (n: number): boolean => {
      const at = filled;
      filled += n;
      if (run !== undefined && (run !== chunk || runEnd !== at)) closeRun();
      if (run === undefined) {
        run = chunk;
        runStart = at;
      }
      runEnd = at + n;
      if (!queued) {
        queued = true;
        setImmediate(flush);
      }
      return true;
    },
  };
  // tls.connect honours `onread` like net.connect (its typings omit it).
  const up = tlsConnect({ host: '127.0.0.1', port, ca: roots, ALPNProtocols: ['http/1.1'], onread } as ConnectionOptions);
  up.setNoDelay(true);
  up.once('secureConnect', () => up.write(request));
  up.on('end', () => {
    ending = true;
    flush();
  });
  up.on('error', () => client.destroy());
  client.on('error', () => up.destroy());
  client.on('close', () => up.destroy());
}

/** Listens on loopback; writes the session CA to `dir`/session-ca.pem; resolves to the port. */
export async function startTlsFloor(dir: string, roots: string): Promise<number> {
  const ca = await SessionCa.create('bench-floor');
  writeFileSync(path.join(dir, 'session-ca.pem'), ca.certPem);
  const secureContext = await ca.contextFor(canonicalizeHost('127.0.0.1'));
  const server = createServer((socket: Socket) => {
    socket.on('error', () => socket.destroy());
    socket.once('data', (d: Buffer) => {
      const port = Number(/^CONNECT 127\.0\.0\.1:(\d+) /.exec(d.toString('latin1'))?.[1] ?? 'NaN');
      if (!Number.isInteger(port)) {
        socket.destroy();
        return;
      }
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      const client = new TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
      client.once('data', (request: Buffer) => relay(client, port, roots, request));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
