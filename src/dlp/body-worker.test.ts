import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { BodyScanWorker } from './body-worker.js';
import { createRequestScanner } from './proxy-scanner.js';
import type { ScanContext } from '../egress/scanner.js';

const MiB = 1024 * 1024;
const KEY = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');
const GHP = ['ghp_', 'R8dXk2LmQ9vTz4WbN7cYp1Hs6JfAe3Gu5KiO'].join('');

/** Prose-like text with secrets planted at given offsets (one straddling each 1 MiB boundary it is put on). */
function body(size: number, plants: readonly { at: number; text: string }[]): Buffer {
  const words = ['the', 'proxy', 'scans', 'every', 'body', 'before', 'it', 'leaves', 'and', 'holds', 'it', 'whole'];
  let s = '';
  let i = 0;
  while (s.length < size) s += `${words[i++ % words.length] ?? ''}${i % 11 === 0 ? '.\n' : ' '}`;
  const b = Buffer.from(s.slice(0, size));
  for (const p of plants) b.write(p.text, p.at, 'latin1');
  return b;
}

/** The worker is used only with two CPUs or more (`body-worker.ts`). */
const SINGLE_CPU = availableParallelism() < 2 ? 'one CPU here: bodies are scanned in the calling thread, no worker to test' : undefined;

const ctx = (): ScanContext => ({ subject: 'Http(POST 127.0.0.1/upload)', method: 'POST', host: '127.0.0.1', port: 80 });

/**
 * The proxy's way: 2 MiB batches, the first as pieces of 64 KiB, the others (`shared`) in shared memory with 4 KiB of
 * room before them, as src/egress/http-forward.ts holds them (or as pieces too), then the end.
 */
async function scanAsProxy(worker: boolean, buf: Buffer, shared = false): Promise<{ findings: string[]; offloaded: boolean }> {
  const s = createRequestScanner({ worker });
  const c = ctx();
  await s.headers(c, ['content-type', 'text/plain']);
  const out: string[] = [];
  let offloaded = false;
  for (let at = 0; at < buf.length; at += 2 * MiB) {
    const batch = buf.subarray(at, Math.min(buf.length, at + 2 * MiB));
    let r;
    if (shared && at > 0) {
      const mem = new SharedArrayBuffer(4096 + 2 * MiB);
      const held = Buffer.from(mem, 4096, batch.length);
      batch.copy(held);
      r = s.bodyShared?.(c, mem, 4096, batch.length, 4096, undefined) ?? [];
      for (const f of await r) out.push(`${f.detector}@${f.where}`);
      assert.ok(held.equals(batch), 'the scan left the held bytes as they were');
    } else {
      const pieces: Buffer[] = [];
      for (let p = 0; p < batch.length; p += 65536) pieces.push(batch.subarray(p, p + 65536));
      r = s.bodyChunks?.(c, pieces, undefined) ?? [];
      for (const f of await r) out.push(`${f.detector}@${f.where}`);
    }
    if (r instanceof Promise) offloaded = true;
  }
  for (const f of await s.bodyEnd(c)) out.push(`${f.detector}@${f.where}`);
  return { findings: out.sort(), offloaded };
}

void describe('DLP body-scan worker', () => {
  void it('gives a large body the findings the proxy thread gives it (secrets inside batches, across their boundaries, in the last bytes)', { skip: SINGLE_CPU }, async () => {
    const size = 5 * MiB + 1234;
    const buf = body(size, [
      { at: 1000, text: ` aws_access_key_id=${KEY} ` },
      { at: MiB - 10, text: ` ${GHP} ` },
      { at: 2 * MiB - 25, text: ` token: ${GHP} ` },
      { at: 4 * MiB - 12, text: ` aws_access_key_id=${KEY} ` },
      { at: size - 60, text: ` aws_access_key_id=${KEY}\n` },
    ]);
    const here = await scanAsProxy(false, buf);
    const there = await scanAsProxy(true, buf);
    assert.equal(here.offloaded, false);
    assert.equal(there.offloaded, true, 'the body was scanned in the worker');
    assert.ok(here.findings.length >= 4, here.findings.join(', '));
    assert.deepEqual(there.findings, here.findings);
  });

  void it('gives batches held in shared memory (read where they are) the findings the proxy thread gives them', { skip: SINGLE_CPU }, async () => {
    const size = 7 * MiB + 321;
    const buf = body(size, [
      { at: 2 * MiB - 25, text: ` token: ${GHP} ` },
      { at: 3 * MiB, text: ` aws_access_key_id=${KEY} ` },
      { at: 4 * MiB - 15, text: ` aws_access_key_id=${KEY} ` },
      { at: 6 * MiB - 3000, text: ` ${GHP} ` },
      { at: size - 60, text: ` aws_access_key_id=${KEY}\n` },
    ]);
    const here = await scanAsProxy(false, buf);
    const shared = await scanAsProxy(true, buf, true);
    const sharedHere = await scanAsProxy(false, buf, true);
    assert.equal(shared.offloaded, true, 'the body was scanned in the worker');
    assert.ok(here.findings.length >= 5, here.findings.join(', '));
    assert.deepEqual(shared.findings, here.findings);
    assert.deepEqual(sharedHere.findings, here.findings);
  });

  void it('refuses a push without room for the carry before its bytes', { skip: SINGLE_CPU }, async () => {
    const w = new BodyScanWorker({ minConfidence: 'medium', overlap: 4096 });
    const id = w.open();
    if (id === undefined) return assert.fail('no worker in this process');
    const mem = new SharedArrayBuffer(8192);
    await assert.rejects(w.pushAt(id, mem, 100, 1000), RangeError);
    await assert.rejects(w.pushAt(id, mem, 4096, 8192), RangeError);
    assert.deepEqual(await w.pushAt(id, mem, 4096, 4096), []);
    w.drop(id);
  });

  void it('gives a clean large body no findings in the worker, and keeps a small body in the calling thread', { skip: SINGLE_CPU }, async () => {
    const clean = await scanAsProxy(true, body(3 * MiB, []));
    assert.equal(clean.offloaded, true);
    assert.deepEqual(clean.findings, []);
    const small = await scanAsProxy(true, body(2 * MiB - 1, [{ at: 5000, text: ` aws_access_key_id=${KEY} ` }]));
    assert.equal(small.offloaded, false, 'a body under one batch is not sent to the worker');
    assert.ok(small.findings.some((f) => f.startsWith('aws-access-key-id')));
  });

  void it('forgets a dropped stream: its next piece starts a new stream', { skip: SINGLE_CPU }, async () => {
    const w = new BodyScanWorker({ minConfidence: 'medium', overlap: 4096 });
    const id = w.open();
    if (id === undefined) return assert.fail('no worker in this process');
    // The first half of a key at the end of one push: found only if the next push continues the same stream.
    assert.deepEqual(await w.push(id, [Buffer.from(`x aws_access_key_id=${KEY.slice(0, 10)}`)]), []);
    w.drop(id);
    assert.deepEqual([...await w.push(id, [Buffer.from(`${KEY.slice(10)} and more text\n`)]), ...await w.end(id)], []);
    const id2 = w.open();
    if (id2 === undefined) return assert.fail('no worker in this process');
    const found = [
      ...await w.push(id2, [Buffer.from(`x aws_access_key_id=${KEY.slice(0, 10)}`)]),
      ...await w.push(id2, [Buffer.from(`${KEY.slice(10)} and more text\n`)]),
      ...await w.end(id2),
    ];
    assert.ok(found.some((f) => f.detector === 'aws-access-key-id'), JSON.stringify(found));
  });
});
