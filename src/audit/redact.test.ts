import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensureRedacted, escapeJsonForDisplay, isRedacted, redactSample, sanitizeForDisplay } from './redact.js';

void test('redactSample shows at most 4 + 4 characters, and only of long values', () => {
  assert.equal(redactSample('AKIAIOSFODNN7EXAMPLE'), 'AKIA…MPLE');
  assert.equal(redactSample('0123456789abcdef'), '0123…cdef');
  assert.equal(redactSample('0123456789ab'), '…(12 chars)');
  assert.equal(redactSample('0123456789abcde'), '…(15 chars)');
  assert.equal(redactSample(''), '…(0 chars)');
  // Lengths are code points: 16 emoji reveal 4 + 4, never half a surrogate pair.
  assert.equal(redactSample('😀'.repeat(16)), `${'😀'.repeat(4)}…${'😀'.repeat(4)}`);
});

void test('ensureRedacted keeps redacted samples and redacts everything else', () => {
  assert.equal(ensureRedacted('AKIA…MPLE'), 'AKIA…MPLE');
  assert.equal(ensureRedacted('…(12 chars)'), '…(12 chars)');
  assert.equal(ensureRedacted('AKIAIOSFODNN7EXAMPLE'), 'AKIA…MPLE');
  // Containing an ellipsis is not enough: this still reveals the whole key.
  assert.equal(isRedacted('AKIAIOSFODNN7EXAMPLE…'), false);
  assert.equal(ensureRedacted('AKIAIOSFODNN7EXAMPLE…'), 'AKIA…PLE…');
  assert.equal(ensureRedacted('secret…secret'), '…(13 chars)');
});

void test('sanitizeForDisplay makes invisible and direction-changing characters visible', () => {
  assert.equal(sanitizeForDisplay('plain text, ünïcödé'), 'plain text, ünïcödé');
  assert.equal(sanitizeForDisplay('a\u202Eb'), 'a\\u{202e}b');
  assert.equal(sanitizeForDisplay('a\u200Bb\u200Dc\uFEFF'), 'a\\u{200b}b\\u{200d}c\\u{feff}');
  assert.equal(sanitizeForDisplay('x\ny\r\tz\x1b[31m'), 'x\\u{a}y\\u{d}\\u{9}z\\u{1b}[31m');
  assert.equal(sanitizeForDisplay('\u2066\u2069\u061C\u200E'), '\\u{2066}\\u{2069}\\u{61c}\\u{200e}');
  assert.equal(sanitizeForDisplay('tag\u{E0041}'), 'tag\\u{e0041}');
  assert.equal(sanitizeForDisplay('\u2028'), '\\u{2028}');
});

void test('escapeJsonForDisplay keeps JSON parseable to the same value', () => {
  const value = { s: 'a\u202Eb\u{E0041}\u200B' };
  const shown = escapeJsonForDisplay(JSON.stringify(value));
  assert.doesNotMatch(shown, /[\u202E\u200B]/u);
  assert.deepEqual(JSON.parse(shown), value);
});
