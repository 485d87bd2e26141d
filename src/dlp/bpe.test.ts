import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { bpeTokenCount, charsPerToken } from './bpe.js';
import { judgeByTokens } from './randomness.js';

void describe('characters per BPE token (cl100k_base)', () => {
  void it('counts the same tokens as js-tiktoken for printable ASCII without spaces', () => {
    const reference = new Tiktoken(cl100k);
    const samples = ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'SuperLongVariableNameForTesting', 'getElementsByClassName', 'node_modules/@types/node/fs.d.ts',
      '3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'ghp_R8bZkq2LmN4pQ7sT1vW3xY5zA6cD8eF0gH2j', 'SECRET_ACCESS_KEY', 'x', 'https://example.com/a?b=c&d=e', '!!!***???', 'aaaaaaaaaaaaaaaaaaaaaaaaaa'];
    for (const s of samples) assert.equal(bpeTokenCount(s), reference.encode(s).length, s);
  });
  void it('separates random keys from names and paths', () => {
    assert.ok(charsPerToken('getElementsByClassName') > 4);
    assert.ok(charsPerToken('node_modules/typescript/lib/typescript.js') > 3);
    assert.ok(charsPerToken('Xq9vB2mK7pL4tR8wZ3nC') < 2);
  });
  void it('judges by tokens: identifiers are not random, keys are (strongly from 20 characters)', () => {
    assert.equal(judgeByTokens('SuperLongVariableNameForTesting').random, false);
    assert.equal(judgeByTokens('MAX_RETRY_ATTEMPTS_BEFORE_FAILURE').random, false);
    const key = judgeByTokens('Xq9vB2mK7pL4tR8wZ3nCa8Kd');
    assert.equal(key.random, true);
    assert.equal(key.strong, true);
    assert.equal(judgeByTokens('aaaaaaaaaaaaaaaa').random, false);
  });
});
