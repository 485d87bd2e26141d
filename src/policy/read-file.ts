/**
 * The one way a policy file is read: bounded and never blocking. Only a regular file is read (a
 * FIFO, a device such as /dev/zero or a socket would block or stream forever), at most one byte
 * past the size limit (so the limit is reported, not buffered), and a missing optional file is
 * told apart from a dangling symbolic link: a link says someone meant a policy to be there, so a
 * target that is gone is an error (fail closed), never a silently dropped scope.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { CordonError } from '../errors.js';

/** The largest policy file read (here, not in source.ts: this reader is on `cordon run`'s start-up path, which must not load the YAML parser). */
export const MAX_POLICY_BYTES = 1024 * 1024;

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

function fail(file: string, why: string): never {
  throw new CordonError('CORDON_POLICY_NOT_FOUND', `${file}: ${why}`);
}

/** The file's bytes (at most `maxBytes + 1`), or `null` for an optional file that does not exist. */
export function readPolicyBytes(file: string, required: boolean, maxBytes: number = MAX_POLICY_BYTES): Buffer | null {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = errno(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      let link: boolean;
      try {
        link = lstatSync(file).isSymbolicLink();
      } catch {
        link = false;
      }
      if (link) fail(file, 'is a symbolic link to a file that does not exist; fix or remove the link (a policy that cannot be read is never skipped)');
      if (!required) return null;
      fail(file, 'no such policy file; check the path given to --policy');
    }
    if (code === 'EISDIR') fail(file, 'is a directory; give a policy file');
    if (code === 'ELOOP') fail(file, 'is a loop of symbolic links; fix or remove it');
    fail(file, `cannot read (${code ?? 'error'}); check its permissions`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) fail(file, 'is a directory; give a policy file');
    if (!st.isFile()) fail(file, 'is not a regular file (a FIFO, a device or a socket); give a policy file');
    const cap = maxBytes + 1;
    const buf = Buffer.allocUnsafe(Math.min(cap, Math.max(st.size, 0) + 1));
    let size = 0;
    let chunk = buf;
    for (;;) {
      if (size === chunk.length) {
        if (size >= cap) break;
        const bigger = Buffer.allocUnsafe(Math.min(cap, chunk.length * 2 + 4096));
        chunk.copy(bigger, 0, 0, size);
        chunk = bigger;
      }
      let n: number;
      try {
        n = readSync(fd, chunk, size, chunk.length - size, null);
      } catch (e) {
        if (errno(e) === 'EAGAIN') fail(file, 'would block on read; give a regular policy file');
        fail(file, `cannot read (${errno(e) ?? 'error'}); check its permissions`);
      }
      if (n === 0) break;
      size += n;
    }
    return chunk.subarray(0, size);
  } finally {
    closeSync(fd);
  }
}
