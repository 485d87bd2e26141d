/**
 * The DNS server the lab controls (UDP, 127.0.0.1:53 inside the lab's own
 * network namespace). It records every query name and answers A records for
 * the lab's test names; everything else is NXDOMAIN. Nothing is forwarded.
 */
import { createSocket, type Socket } from 'node:dgram';
import { INTERNAL_V4 } from './services.js';

export interface LabDns {
  readonly queries: string[];
  close(): void;
}

/** Reads an uncompressed DNS name at `offset` (bounded: at most 128 labels of 63 bytes). */
export function readDnsName(msg: Buffer, offset: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let i = offset;
  for (let guard = 0; guard < 128; guard += 1) {
    const len = msg[i];
    if (len === undefined || len > 63) return undefined;
    if (len === 0) return { name: labels.join('.'), end: i + 1 };
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  return undefined;
}

/** A answers for the lab's names (lower-cased); undefined = NXDOMAIN. */
export function answerFor(name: string): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n === 'metadata.google.internal' || n === 'meta.cdn.lab.test') return '169.254.169.254';
  if (n === 'internal.cdn.lab.test') return INTERNAL_V4;
  if (n.endsWith('.cdn.lab.test') || n.endsWith('.exfil.lab.test') || n === 'exfil.lab.test') return '127.0.0.1';
  return undefined;
}

export function startDns(port = 53, host = '127.0.0.1'): Promise<LabDns> {
  const sock: Socket = createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12 || queries.length > 10_000) return;
    const q = readDnsName(msg, 12);
    if (q === undefined || msg.length < q.end + 4) return;
    queries.push(q.name);
    const qtype = msg.readUInt16BE(q.end);
    const ip = answerFor(q.name);
    const answers = ip !== undefined && qtype === 1 ? [Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, ...ip.split('.').map(Number)])] : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(ip === undefined ? 0x8183 : 0x8180, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    sock.send(Buffer.concat([header, msg.subarray(12, q.end + 4), ...answers]), rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => resolve({ queries, close: () => sock.close() }));
  });
}
