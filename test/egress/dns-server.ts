/** A tiny authoritative DNS server on loopback UDP for tests: A records from a function, no AAAA. */
import { createSocket } from 'node:dgram';
import { readDnsName } from '../../src/lab/dns.js';

export interface TestDns {
  readonly port: number;
  /** A queries received, by name. */
  readonly queries: string[];
  close(): void;
}

function readName(msg: Buffer, offset: number): { name: string; end: number } | undefined {
  const r = readDnsName(msg, offset);
  return r === undefined ? undefined : { name: r.name.toLowerCase(), end: r.end };
}

/** `answer(name, nth)` returns the IPv4 addresses for the nth (from 0) A query of that name. */
export function startDns(answer: (name: string, nth: number) => readonly string[]): Promise<TestDns> {
  const sock = createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const q = readName(msg, 12);
    if (q === undefined || msg.length < q.end + 4) return;
    const qtype = msg.readUInt16BE(q.end);
    const question = msg.subarray(12, q.end + 4);
    let ips: readonly string[] = [];
    if (qtype === 1) {
      ips = answer(q.name, queries.filter((n) => n === q.name).length);
      queries.push(q.name);
    }
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8180, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(ips.length, 6);
    const answers = ips.map((ip) => Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, ...ip.split('.').map(Number)]));
    sock.send(Buffer.concat([header, question, ...answers]), rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => {
    sock.bind(0, '127.0.0.1', () => resolve({ port: sock.address().port, queries, close: () => sock.close() }));
  });
}
