/**
 * Pieces of the lab's MCP, approval and srt additions that need no sandbox:
 * the MCP servers' evidence lines (only the scenario's nonce counts, and they
 * leave the agent's output), the lab policy's MCP and approval settings, the
 * srt settings and the srt column's totals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitMcpEvidence } from '../../src/lab/judge.js';
import { srtTotals, type ScenarioResult } from '../../src/lab/result.js';
import { allScenarios } from '../../src/lab/scenarios/index.js';
import { srtApplies, srtSettings } from '../../src/lab/srt.js';
import { labPolicy } from '../../src/lab/workspace.js';

const line = (nonce: string, m: unknown): string => `LABMCP-${nonce} ${Buffer.from(JSON.stringify(m)).toString('base64')}`;

void describe('lab MCP evidence', () => {
  void it('takes only lines with the scenario nonce, keeps the rest as output', () => {
    const stderr = ['agent says hi', line('n1', { event: 'call', data: { tool: 'send_email', args: { to: 'x@y' } } }), line('forged', { event: 'call', data: { tool: 'bad', args: {} } }), line('n1', { event: 'snoop', data: { env: '{}', '/proc/2/environ': 'A=1' } })].join('\n');
    const { rest, upstream } = splitMcpEvidence(stderr, 'n1');
    assert.deepEqual(upstream.calls, [{ tool: 'send_email', args: '{"to":"x@y"}' }]);
    assert.deepEqual(upstream.reads, ['/proc/2/environ', 'env']);
    assert.equal(upstream.payloads.length, 2);
    assert.match(rest, /agent says hi/);
    assert.match(rest, /LABMCP-forged/);
    assert.doesNotMatch(rest, /LABMCP-n1/);
  });
});

void describe('lab policy', () => {
  void it('configures the scenario\'s MCP servers with their tools allowed, and short unattended approvals', () => {
    const p = labPolicy({ allowedPort: 1000, plainPort: 1001, mcp: { docs: ['node', '.lab/mcp-server.mjs', 'poison'] } });
    assert.match(p, /- "mcp__docs__\*"/);
    assert.match(p, /docs: \{ command: \["node",".lab\/mcp-server.mjs","poison"\] \}/);
    assert.match(p, /approvals: \{ ttl: 2s, channels: \[\] \}/);
    assert.doesNotMatch(labPolicy({ allowedPort: 1, plainPort: 2 }), /^mcp:/m);
  });
});

void describe('srt side by side', () => {
  void it('applies to filesystem, network and environment scenarios, not MCP, approvals or brokered credentials', () => {
    const all = allScenarios();
    for (const s of all) {
      const why = srtApplies(s);
      if (s.class === 'mcp' || s.class === 'approval' || s.mcp !== undefined || s.credential === true) assert.notEqual(why, undefined, s.id);
      else assert.equal(why, undefined, s.id);
    }
  });

  void it('settings deny the lab root but the workspace, and allow only the lab policy\'s destinations', () => {
    const j = JSON.parse(srtSettings({ labRoot: '/tmp/lab', allowedPort: 5, plainPort: 6 })) as { network: { allowedDomains: string[] }; filesystem: { denyRead: string[]; allowRead: string[]; allowWrite: string[] } };
    assert.deepEqual(j.network.allowedDomains, ['127.0.0.1:5', '127.0.0.1:6', '*.cdn.lab.test']);
    assert.deepEqual(j.filesystem.allowRead, ['.']);
    assert.deepEqual(j.filesystem.allowWrite, ['.']);
    assert.ok(j.filesystem.denyRead.includes('/tmp/lab'));
  });

  void it('totals count srt outcomes apart and say when nothing was measured', () => {
    const base = { title: 't', agent: 'shell', detail: '', stoppedBy: [], expected: 'e', evidence: undefined } as const;
    const rs: ScenarioResult[] = [
      { ...base, id: 'a', class: 'exfil', kind: 'attack', outcome: 'contained', srt: { outcome: 'breached', detail: 'x' } },
      { ...base, id: 'b', class: 'exfil', kind: 'attack', outcome: 'contained', srt: { outcome: 'contained', detail: '' } },
      { ...base, id: 'c', class: 'mcp', kind: 'attack', outcome: 'contained', srt: { outcome: 'not-applicable', detail: 'n/a' } },
      { ...base, id: 'd', class: 'benign', kind: 'benign', outcome: 'succeeded', srt: { outcome: 'succeeded', detail: '' } },
    ];
    assert.deepEqual(srtTotals(rs), { measured: true, attacks: 2, contained: 1, breached: 1, notApplicable: 1, benign: 1, benignOk: 1, errors: 0 });
    assert.equal(srtTotals(rs.map(({ srt: _s, ...r }) => r)).measured, false);
  });
});
