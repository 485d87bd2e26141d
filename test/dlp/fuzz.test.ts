import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DlpScanner } from '../../src/dlp/scanner.js';
import { fake, rand } from './helpers.js';

/** Bounded fuzzing: every input finishes within a time budget and without unbounded memory growth. */
const scanner = new DlpScanner({ traffic: true });

function timed(label: string, text: string, budgetMs: number): void {
  const before = process.memoryUsage().heapUsed;
  const t = performance.now();
  scanner.scanText(text, 'fuzz');
  const ms = performance.now() - t;
  const grew = process.memoryUsage().heapUsed - before;
  assert.ok(ms < budgetMs, `${label}: ${ms.toFixed(0)} ms (budget ${budgetMs})`);
  assert.ok(grew < 512 * 1024 * 1024, `${label}: heap grew ${grew}`);
}

void describe('fuzz: adversarial inputs finish in bounded time and memory', () => {
  void it('a 2 MB line without newlines', () => timed('huge line', rand(2 * 1024 * 1024, 'abcdefghij0123456789+/'), 20_000));
  void it('keywords repeated without a secret', () => timed('keyword storm', 'token=ghp_sk-ant-://-----BEGIN 0xAKIA eyJ'.repeat(20_000), 20_000));
  void it('a 1 MB base64 run', () => timed('base64 run', Buffer.from(rand(768 * 1024)).toString('base64'), 20_000));
  void it('percent-encoding nested up to 30 times (500 KB)', () => {
    let s = fake.github();
    for (let i = 0; i < 30 && s.length < 500_000; i++) s = encodeURIComponent(s).replace(/[A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
    timed('nested percent', s.slice(0, 1_000_000), 20_000);
  });
  void it('base64 nested 12 times', () => {
    let s = `k=${fake.github()}`;
    for (let i = 0; i < 12; i++) s = Buffer.from(s).toString('base64');
    timed('nested base64', s, 20_000);
  });
  void it('a gzip bomb inside base64 is cut at the size limit', () => {
    timed('gzip bomb', Buffer.from(gzipSync(Buffer.alloc(200 * 1024 * 1024))).toString('base64'), 20_000);
  });
  void it('an unterminated PEM block and an unterminated URL', () => {
    timed('pem', `-----BEGIN RSA PRIVATE KEY-----\n${'A'.repeat(1_000_000)}`, 20_000);
    timed('url', `https://user:${'p'.repeat(500_000)}`, 20_000);
  });
  void it('random bytes (seeded)', () => {
    for (let i = 0; i < 20; i++) timed('random', rand(64 * 1024, '\u0000\u200b\uff21azAZ09+/=%\\u"&#;:@.-_ \n'), 10_000);
  });
});
