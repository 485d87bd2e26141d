/** The fast parser of `cordon run`: the shapes it accepts, and everything it hands to the full parser. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRunArgs } from './run-args.js';

void describe('parseRunArgs', () => {
  void it('parses the options run declares, and stops at the command', () => {
    assert.deepEqual(parseRunArgs(['--', 'true']), { cmd: ['true'], opts: {} });
    assert.deepEqual(parseRunArgs(['ls', '-la']), { cmd: ['ls', '-la'], opts: {} });
    assert.deepEqual(parseRunArgs(['-p', 'a.yaml', '--policy=b.yaml', '--profile', 'none', '-w', '/ws', '--report-only', '--', 'sh', '-c', 'x']), {
      cmd: ['sh', '-c', 'x'],
      opts: { policy: ['a.yaml', 'b.yaml'], profile: 'none', workspace: '/ws', reportOnly: true },
    });
    assert.deepEqual(parseRunArgs(['--keep-env', 'FOO', 'BAR', '--', 'env']), { cmd: ['env'], opts: { keepEnv: ['FOO', 'BAR'] } });
    // Options after the command are the command's own.
    assert.deepEqual(parseRunArgs(['git', '--policy', 'x']), { cmd: ['git', '--policy', 'x'], opts: {} });
  });

  void it('returns null (the full parser decides) for help, unknown or malformed options and a missing command', () => {
    for (const argv of [[], ['--'], ['--help'], ['-h'], ['--nope', '--', 'true'], ['-pw', 'x', 'true'], ['--policy'], ['--policy', '--', 'true'],
      ['--policy='], ['--profile', 'a', '--profile', 'b', 'true'], ['--keep-env', '--', 'true'], ['--report-only=yes', 'true']]) {
      assert.equal(parseRunArgs(argv), null, JSON.stringify(argv));
    }
  });
});
