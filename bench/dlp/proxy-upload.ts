/**
 * The proxy's upload path alone: `node --import tsx bench/dlp/proxy-upload.ts [--mb 50] [--runs 7] [--chunk 2097152] [--body prose] [--known 0] [--worker]`
 *
 * The exact request scanner the egress proxy builds (`createRequestScanner()`
 * with its defaults: traffic checks and decoding layers on, medium confidence)
 * fed the body of bench/egress's upload row (prose-like text, the same
 * generator as `uploadChunks()` in bench/egress/run.ts) in chunks of the
 * size the proxy batches them to (2 MiB, `SCAN_BATCH` in
 * src/egress/http-forward.ts), then `bodyEnd`. Prints MiB/s per run and the
 * median; the issue 4 target is 200 MB/s through the proxy, which needs
 * about 300 MiB/s here. `--body` picks other 1 MiB pieces, dense in what the
 * decoding layers and traffic checks look for (`bodyPieces` in
 * proxy-upload-body.ts): csv, digits, hexdump, base64, escaped, percent.
 * `--known N` gives the scanner the fingerprints of N generated known
 * secrets, as `cordon run` does with the user's credential-like variables
 * and the broker's credentials (seeded values, 40 characters).
 * The scan runs in this thread (`worker: false`); `--worker` sends the
 * batches to the body-scan worker the proxy uses for large bodies, one after
 * another (its scan plus the messages, without the overlap with receiving
 * that the proxy gets from it).
 */
import { parseArgs } from 'node:util';
import { KnownSecretSet } from '../../src/dlp/fingerprint.js';
import { createRequestScanner } from '../../src/dlp/proxy-scanner.js';
import { seededRandom } from '../../src/seeded-random.js';
import type { ScanContext } from '../../src/egress/scanner.js';
import { bodyPieces, uploadChunks } from './proxy-upload-body.js';

const { values: opt } = parseArgs({ options: { mb: { type: 'string', default: '50' }, runs: { type: 'string', default: '7' }, chunk: { type: 'string', default: String(2 * 1024 * 1024) }, body: { type: 'string', default: 'prose' }, worker: { type: 'boolean', default: false }, known: { type: 'string', default: '0' } } });
const MB = Number(opt.mb);
const RUNS = Number(opt.runs);
const CHUNK = Number(opt.chunk);

const pieces = opt.body === 'prose' ? uploadChunks() : [bodyPieces(opt.body)];
const body = Buffer.concat(Array.from({ length: MB }, (_, i) => pieces[i % pieces.length] as Buffer));
const KNOWN = Number(opt.known);
const rnd = seededRandom(17);
const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const known = new KnownSecretSet();
for (let i = 0; i < KNOWN; i++) known.add(`KNOWN_${i}`, Array.from({ length: 40 }, () => B62.charAt(Math.floor(rnd() * 62))).join(''));
const scanner = createRequestScanner({ worker: opt.worker, ...(KNOWN > 0 ? { known: known.matcher() } : {}) });

async function once(): Promise<{ ms: number; findings: number }> {
  const ctx: ScanContext = { subject: 'Http(POST 127.0.0.1/upload)', method: 'POST', host: '127.0.0.1', port: 80 };
  const t = performance.now();
  let findings = 0;
  findings += (await scanner.headers(ctx, ['content-type', 'text/plain', 'content-length', String(body.length)])).length;
  for (let at = 0; at < body.length; at += CHUNK) findings += (await scanner.bodyChunk(ctx, body.subarray(at, at + CHUNK), undefined)).length;
  findings += (await scanner.bodyEnd(ctx)).length;
  return { ms: performance.now() - t, findings };
}

await once();
const rates: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const { ms, findings } = await once();
  const rate = body.length / 1048576 / (ms / 1000);
  rates.push(rate);
  process.stdout.write(`run ${r + 1}: ${ms.toFixed(0)} ms, ${rate.toFixed(1)} MiB/s, ${findings} findings\n`);
}
rates.sort((a, b) => a - b);
process.stdout.write(`proxy request scanner, ${MB} MiB ${opt.body} upload in ${CHUNK}-byte chunks${KNOWN > 0 ? `, ${KNOWN} known secrets` : ''}${opt.worker ? ' (in the worker)' : ''}: median ${(rates[Math.floor(rates.length / 2)] ?? 0).toFixed(1)} MiB/s, best ${(rates[rates.length - 1] ?? 0).toFixed(1)}${opt.body === 'prose' ? ' (target >= 300)' : ''}\n`);
