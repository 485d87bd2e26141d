import assert from 'node:assert/strict';
import { it } from 'node:test';
import { collectKnownSecrets } from './known-sources.js';

void it('collects credential-named and scrubbed variables, never paths or short values', () => {
  const env = {
    DEPLOY_TOKEN: 'tok-3f9a8b7c6d5e4f3a2b1c',
    XDG_STATE_HOME: '/tmp/cordon-lab-Xk3j9QzT2p/persist-claude-settings-7hG2kQ/state',
    SOME_KEY: 'short',
    PATH_LIKE_TOKEN: '/opt/a9Fq3kLm2Zp8Xw7Yv6Ut:/usr/local/b8Gq2jKm1Yo7Wv6Xu5Ts',
    OTHER: 'not-a-secret-but-long-enough',
  };
  const c = collectKnownSecrets({ env, scrubbed: ['XDG_STATE_HOME'] });
  assert.deepEqual(c.labels, ['env:DEPLOY_TOKEN']);
  assert.equal(c.set.size, 1);
});
