/** A minimal npm package tarball (ustar + gzip) built in memory for the lab registry. */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number): void => {
    h.write(s.slice(0, len), off, 'latin1');
  };
  put(name, 0, 100);
  put('0000644\0', 100, 8);
  put('0000000\0', 108, 8);
  put('0000000\0', 116, 8);
  put(`${size.toString(8).padStart(11, '0')}\0`, 124, 12);
  put('00000000000\0', 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

export function tgz(files: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, text] of Object.entries(files)) {
    const body = Buffer.from(text, 'utf8');
    parts.push(header(name, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

export interface LabPackage {
  readonly name: string;
  readonly tarball: Buffer;
  packument(base: string): object;
}

/** `leftpad-lab@1.0.0`: what the benign install fetches. */
export function leftpadPackage(): LabPackage {
  const name = 'leftpad-lab';
  const pkg = { name, version: '1.0.0', main: 'index.js' };
  const tarball = tgz({
    'package/package.json': JSON.stringify(pkg),
    'package/index.js': 'module.exports = (s, n) => String(s).padStart(n, " ");\n',
  });
  const shasum = createHash('sha1').update(tarball).digest('hex');
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  return {
    name,
    tarball,
    packument: (base) => ({
      name, 'dist-tags': { latest: '1.0.0' },
      versions: { '1.0.0': { ...pkg, dist: { tarball: `${base}/registry/${name}/-/${name}-1.0.0.tgz`, shasum, integrity } } },
    }),
  };
}
