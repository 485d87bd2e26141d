import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isCordonError } from '../errors.js';
import { resolveSource } from './sources.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-src-'));

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => isCordonError(e) && e.code === 'CORDON_BROKER' && re.test(e.message));
}

void describe('credential sources', () => {
  void it('env: the variable named like the credential by default, or the one named', async () => {
    assert.equal(await resolveSource('TOK', undefined, { TOK: ' v1\n' }), 'v1');
    assert.equal(await resolveSource('TOK', { env: 'OTHER' }, { OTHER: 'v2' }), 'v2');
    await rejects(resolveSource('TOK', undefined, {}), /^credential TOK: the environment variable TOK is not set/);
    await rejects(resolveSource('TOK', undefined, { TOK: '  ' }), /empty/);
  });
  void it('file: read whole, final newline removed; missing or multi-line or too large is an error', async () => {
    writeFileSync(path.join(dir, 'ok'), 'secret-from-file\n');
    writeFileSync(path.join(dir, 'two'), 'a\nb\n');
    writeFileSync(path.join(dir, 'big'), 'x'.repeat(100));
    assert.equal(await resolveSource('F', { file: path.join(dir, 'ok') }, {}), 'secret-from-file');
    await rejects(resolveSource('F', { file: path.join(dir, 'none') }, {}), /cannot be read \(ENOENT\)/);
    await rejects(resolveSource('F', { file: path.join(dir, 'two') }, {}), /more than one line/);
    await rejects(resolveSource('F', { file: path.join(dir, 'big') }, {}, { maxBytes: 10 }), /larger than 10 bytes/);
  });
  void it('command: argv without a shell, its stdout; failure, timeout, too much output and a missing program are errors', async () => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    assert.equal(await resolveSource('C', { command: ['printf', '%s\n', 'from-cmd; $(not run)'] }, env), 'from-cmd; $(not run)');
    await rejects(resolveSource('C', { command: ['sh', '-c', 'exit 3'] }, env), /failed \(exit status 3\)/);
    await rejects(resolveSource('C', { command: ['sleep', '5'] }, env, { commandTimeoutMs: 200 }), /did not finish within 200 ms/);
    await rejects(resolveSource('C', { command: ['yes'] }, env, { maxBytes: 1000 }), /printed more than 1000 bytes/);
    await rejects(resolveSource('C', { command: ['/nonexistent/secret-tool'] }, env), /could not be started \(ENOENT\)/);
  });
});
