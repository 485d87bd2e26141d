/**
 * Reads a hook's whole input with a size limit and a deadline, so a hook can
 * never hang its harness or be made to buffer without bound. Either limit
 * failing is an error: the caller blocks the tool call (exit 2).
 */
import type { Readable } from 'node:stream';
import { CordonError } from '../errors.js';

/** Claude Code's hook inputs are a few kilobytes; a Write of a large file can be more. */
export const MAX_HOOK_INPUT_BYTES = 1024 * 1024;
/** Claude Code writes the input at once and closes stdin; waiting longer means something is wrong. */
export const HOOK_INPUT_TIMEOUT_MS = 10_000;

export interface ReadLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

export async function readBounded(stream: Readable & { isTTY?: boolean }, limits: ReadLimits): Promise<Buffer> {
  if (stream.isTTY === true) {
    throw new CordonError('CORDON_USAGE', 'stdin is a terminal; this command reads the hook JSON that the agent harness writes to it');
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: CordonError | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
      if (err !== null) {
        // Stop reading and let go of the pipe, so the process can exit.
        stream.destroy();
        reject(err);
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    };
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      size += b.length;
      if (size > limits.maxBytes) {
        finish(new CordonError('CORDON_USAGE', `the hook input exceeds ${limits.maxBytes} bytes; refusing it`));
        return;
      }
      chunks.push(b);
    };
    const onEnd = (): void => finish(null);
    const onError = (e: Error): void => finish(new CordonError('CORDON_INTERNAL', `reading the hook input failed: ${e.message}`));
    const timer = setTimeout(() => {
      finish(new CordonError('CORDON_USAGE', `no complete hook input on stdin within ${limits.timeoutMs} ms; refusing to wait longer`));
    }, limits.timeoutMs);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.resume();
  });
}
