/** Ordinary agent traffic that once tripped the generic random-token check (found by `cordon lab --agent claude`). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DlpScanner } from '../../src/dlp/index.js';

void it('temporary directory paths and hyphenated identifiers in a JSON body are not secrets', () => {
  const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true });
  const body = JSON.stringify({
    system: 'Working directory: /tmp/cordon-lab-Xk3j9QzT2p/persist-claude-settings-7hG2kQ/ws\nPlatform: linux',
    betas: ['interleaved-thinking-2025-05-14', 'fine-grained-tool-streaming-2025-05-14', 'agent-sdk-computer-use-2025-01-24'],
    messages: [{ role: 'user', content: 'Encoded: ' + Buffer.from('/tmp/cordon-lab-Xk3j9QzT2p/ws/notes/agent-sdk-computer-use').toString('base64') }],
  });
  const findings = scanner.scanText(body, 'body');
  assert.deepEqual(findings.map((f) => f.detector), []);
  const key = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');
  assert.ok(scanner.scanText(JSON.stringify({ note: Buffer.from(`aws ${key}`).toString('base64') }), 'body').some((f) => f.detector === 'aws-access-key-id'), 'a real credential under base64 is still found');
});
