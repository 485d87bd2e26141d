/**
 * Recording HTTP services for the lab: every connection, request line,
 * header and body byte is kept (bounded), so the evidence detector can look
 * for canaries in everything a service received.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  /** Canonical path: absolute form stripped, percent-decoded, `;params` and dot segments removed, lower case. */
  readonly canonicalPath: string;
  readonly head: string;
  readonly body: Buffer;
}

export interface Recording {
  connections: number;
  readonly requests: RecordedRequest[];
  /** Bytes that did not parse as HTTP (client errors). */
  readonly rawErrors: Buffer[];
  bytes: number;
}

export interface RecordingServer {
  readonly port: number;
  readonly host: string;
  readonly rec: Recording;
  close(): Promise<void>;
}

const MAX_BYTES = 4 * 1024 * 1024;

export function canonicalPath(url: string): string {
  let p = url;
  if (!p.startsWith('/')) {
    try {
      p = new URL(p).pathname;
    } catch {
      p = `/${p}`;
    }
  }
  p = p.split(/[?#]/)[0] ?? '/';
  const segs: string[] = [];
  for (const raw of p.split('/')) {
    let s = raw.split(';')[0] ?? '';
    try {
      s = decodeURIComponent(s);
    } catch {
      /* keep the raw segment */
    }
    if (s === '' || s === '.') continue;
    if (s === '..') segs.pop();
    else segs.push(s.toLowerCase());
  }
  return `/${segs.join('/')}`;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export async function startRecording(host: string, port: number, handler: Handler): Promise<RecordingServer> {
  const rec: Recording = { connections: 0, requests: [], rawErrors: [], bytes: 0 };
  const server: Server = createServer({ requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      rec.bytes += c.length;
      if (rec.bytes <= MAX_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '';
      const head = `${req.method ?? ''} ${url} HTTP/${req.httpVersion}\n${req.rawHeaders.map((v, i) => (i % 2 === 0 ? `${v}: ` : `${v}\n`)).join('')}`;
      rec.bytes += head.length;
      rec.requests.push({ method: req.method ?? '', url, canonicalPath: canonicalPath(url), head, body });
      handler(req, res, body);
    });
    req.on('error', () => res.destroy());
  });
  server.on('connection', (s: Socket) => {
    rec.connections += 1;
    s.on('error', () => undefined);
  });
  server.on('clientError', (err: Error & { rawPacket?: Buffer }, socket: Socket) => {
    if (err.rawPacket !== undefined && rec.bytes < MAX_BYTES) {
      rec.rawErrors.push(err.rawPacket);
      rec.bytes += err.rawPacket.length;
    }
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    port: addr.port,
    host,
    rec,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Everything a service received, one buffer per request (head + body) and per unparsed packet. */
export function receivedChunks(rec: Recording): Buffer[] {
  return [...rec.requests.map((r) => Buffer.concat([Buffer.from(r.head, 'latin1'), r.body])), ...rec.rawErrors];
}
