/**
 * The lab's approval-forge attack through the real runner (built bin/cordon,
 * the lab's own network namespace): the compromised agent probes the hook's
 * ask-only endpoint (`$CORDON_ASK_SOCKET`, the one session socket it can
 * reach) to list, watch, answer and approve, and tries to write next to it.
 * Inside, every probe is refused and the directory is read-only; outside, the
 * held /admin request never reaches the allowed service (contained).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { launchLab, missingBuild, packageRoot } from '../../src/lab/launch.js';

function skipReason(): string | false {
  const missing = missingBuild(packageRoot());
  if (missing !== undefined) return missing;
  if (spawnSync('bwrap', ['--version']).status !== 0) return 'bubblewrap is not installed (apt-get install -y bubblewrap)';
  if (spawnSync('socat', ['-V']).status !== 0) return 'socat is not installed (apt-get install -y socat)';
  if (spawnSync('unshare', ['--net', '--mount', 'true']).status !== 0 && spawnSync('unshare', ['--user', '--map-root-user', '--net', '--mount', 'true']).status !== 0) return 'cannot create network namespaces (unshare --net)';
  return false;
}

void describe('cordon lab: approval-forge against the ask-only endpoint', { skip: skipReason() }, () => {
  void it('inside: list, watch, hello, answer and a second message are refused, the directory is read-only; outside: contained', { timeout: 120_000 }, async () => {
    const report = await launchLab({ agent: 'shell', quick: false, filter: ['approval-forge'], timeoutMs: 100_000 });
    const r = report.results.find((x) => x.id === 'approval-forge');
    assert.ok(r, JSON.stringify(report.results.map((x) => x.id)));
    const out = r.evidence?.outputTail ?? '';
    assert.equal(r.outcome, 'contained', `${r.detail}\n${out}`);
    // The endpoint was there to attack (cordon run sets it when the session's approval socket runs).
    assert.match(out, /^ask-socket: \/.*\/ask\.sock$/m, out);
    for (const probe of ['ask-list', 'ask-watch', 'ask-hello', 'ask-answer']) {
      assert.match(out, new RegExp(`^${probe}: \\{"type":"error","code":"refused".*cannot list, watch or answer`, 'm'), `${probe}\n${out}`);
    }
    assert.match(out, /^ask-then-answer: \{"type":"error","code":"refused".*one ask per connection/m, out);
    // An ask the agent submits itself is judged by the session's policy and never comes back approved.
    assert.match(out, /^ask-alone: \{"type":"(not-asked|pending|verdict)"/m, out);
    assert.doesNotMatch(out, /"approved":true|"approvals":\[|"type":"(answered|event|hello)"|ask-dir-writable/, out);
    // Outside: the held request was refused (the TTL made it a deny) and the allowed service saw no /admin request.
    assert.match(out, /^forge:403$/m, out);
    assert.match(r.stoppedBy.join('\n'), /ask Http\(POST 127\.0\.0\.1:\d+\/admin\/forge\)/);
  });
});
