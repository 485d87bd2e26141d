/**
 * The download client and the small figures helpers shared by run.ts,
 * paired.ts and floor.ts (no side effects: each bench imports it).
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

/** The read options a connection is opened with: one fixed buffer and the byte counter. */
export interface OnRead { readonly buffer: Buffer; readonly callback: (n: number, b: Buffer) => boolean }

/**
 * Body bytes of one GET, read into one fixed 1 MiB buffer and only counted
 * (the client must not be what limits the figure). `open` makes the
 * connection (plain, TLS, or TLS over a CONNECT tunnel) with the read options.
 * Anything but a 200 with a Content-Length, or a connection closed before the
 * end of the body, is an error.
 */
export function countGet(open: (onread: OnRead) => Promise<Socket>, target: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let head = '';
    let left = -1;
    let total = 0;
    let sock: Socket | undefined;
    const finish = (e?: Error): void => {
      sock?.destroy();
      if (e !== undefined) reject(e);
      else resolve(total);
    };
    const callback = (n: number, b: Buffer): boolean => {
      if (left < 0) {
        head += b.toString('latin1', 0, n);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return true;
        const status = /^HTTP\/1\.[01] (\d+)/.exec(head);
        const cl = /\r\ncontent-length: *(\d+)/i.exec(head.slice(0, end));
        if (status?.[1] !== '200' || cl === null) {
          finish(new Error(`got ${head.split('\r\n')[0] ?? ''}`));
          return false;
        }
        left = Number(cl[1]);
        n = head.length - end - 4;
      }
      total += n;
      left -= n;
      if (left <= 0) finish();
      return true;
    };
    open({ buffer: Buffer.allocUnsafe(1 << 20), callback }).then((s) => {
      sock = s;
      s.on('error', finish);
      s.on('close', () => {
        if (left !== 0) finish(new Error('connection closed before the end of the body'));
      });
      s.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    }, reject);
  });
}

/** `countGet`'s opener for a plain connection to 127.0.0.1:`port`. */
export const plainTo = (port: number) => (onread: OnRead): Promise<Socket> => Promise.resolve(connect({ host: '127.0.0.1', port, onread }));

/** The median; NaN for no samples. */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

/** CPU time (user + system, ms) a process has used so far. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}
