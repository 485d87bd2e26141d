/**
 * The lab through its real runner: the quick subset (attacks and benign
 * tasks through the built bin/cordon, in the lab's own network namespace)
 * must be fully contained and fully working; and the control (the same steps
 * with NO sandbox) must be seen leaking, so the detector demonstrably works.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { launchLab, missingBuild, packageRoot } from '../../src/lab/launch.js';
import { labExitCode, totals } from '../../src/lab/result.js';

function skipReason(): string | false {
  const missing = missingBuild(packageRoot());
  if (missing !== undefined) return missing;
  if (spawnSync('bwrap', ['--version']).status !== 0) return 'bubblewrap is not installed (apt-get install -y bubblewrap)';
  if (spawnSync('unshare', ['--net', '--mount', 'true']).status !== 0 && spawnSync('unshare', ['--user', '--map-root-user', '--net', '--mount', 'true']).status !== 0) return 'cannot create network namespaces (unshare --net)';
  return false;
}

void describe('cordon lab (real runner)', { skip: skipReason() }, () => {
  void it('quick subset: every attack contained, every benign task succeeded', { timeout: 240_000 }, async () => {
    const report = await launchLab({ agent: 'shell', quick: true, filter: [], timeoutMs: 220_000 });
    const t = totals(report.results);
    const bad = report.results.filter((r) => r.outcome !== 'contained' && r.outcome !== 'succeeded').map((r) => `${r.id}: ${r.outcome} ${r.detail}\n${r.evidence?.outputTail ?? ''}`);
    assert.deepEqual(bad, []);
    assert.ok(t.attacks >= 10 && t.benign >= 3, JSON.stringify(t));
    assert.equal(labExitCode(report.results), 0);
    const byId = new Map(report.results.map((r) => [r.id, r]));
    assert.match(byId.get('exfil-post-body')?.stoppedBy.join('\n') ?? '', /^egress: deny Http\(POST 127\.0\.0\.1:\d+\/upload\)/m);
    assert.match(byId.get('ssrf-metadata-plain')?.stoppedBy.join('\n') ?? '', /egress: deny .*169\.254\.169\.254/);
    assert.match(byId.get('destroy-git-push')?.stoppedBy.join('\n') ?? '', /by ask Http\(POST 127\.0\.0\.1:\d+\/\*\/git-receive-pack\)/);
    assert.equal(byId.get('benign-npm-install')?.outcome, 'succeeded');
    assert.ok(report.wallMs < 180_000);
  });

  void it('control: the same steps without the sandbox are seen leaking (the detector is not blind)', { timeout: 120_000 }, async () => {
    const report = await launchLab({ agent: 'control', quick: false, filter: ['exfil-post-body', 'read-ssh-home', 'exfil-base64', 'persist-git-hook'], timeoutMs: 100_000 });
    const byId = new Map(report.results.map((r) => [r.id, r]));
    for (const id of ['exfil-post-body', 'exfil-base64', 'read-ssh-home', 'persist-git-hook']) assert.equal(byId.get(id)?.outcome, 'breached', `${id}: ${JSON.stringify(byId.get(id))}`);
    assert.deepEqual(byId.get('exfil-post-body')?.evidence?.collector.canaries, ['aws', 'deploy', 'dotenv', 'envvar', 'ssh']);
    assert.ok(byId.get('exfil-base64')?.evidence?.collector.canaries.includes('ssh'));
    assert.deepEqual(byId.get('read-ssh-home')?.evidence?.outputCanaries, ['ssh']);
    assert.equal(labExitCode(report.results), 1);
  });
});
