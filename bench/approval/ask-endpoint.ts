/**
 * What routing a hook's ask through the ask-only endpoint costs, in process
 * (no person: the service is answered by the bench itself as soon as the
 * approval is pending): the endpoint's start and stop (added to every
 * `cordon run` with an approval channel), a Bash call the session's policy
 * does not ask about (`not-asked`: judge only), and an ask answered at once
 * (judge, canonical form, hash, executable hash, service round trip).
 * Medians over N runs; run: node --import tsx bench/approval/ask-endpoint.ts [N]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAskEndpoint } from '../../src/approval/ask-endpoint.js';
import { judgeHookAsk } from '../../src/approval/hook-ask.js';
import { ApprovalService } from '../../src/approval/service.js';
import { routeAsk } from '../../src/hook/ask-client.js';
import { Policy } from '../../src/policy/policy.js';

const N = Number(process.argv[2] ?? '30');
const root = mkdtempSync(path.join(tmpdir(), 'cordon-bench-ask-'));
writeFileSync(path.join(root, 'cordon.yaml'), 'version: 1\nextends: [default]\npermissions:\n  ask: ["Bash(touch *)"]\n  deny: ["Bash(curl *)"]\n');
const policy = Policy.load({ workspace: root, files: [] });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

const service = new ApprovalService({ session: 's_0b0b', ttlMs: 30_000 });
service.on((e) => {
  if (e.kind === 'pending') service.answer({ id: e.approval.id, hash: e.approval.hash, verdict: 'approve', by: 'bench' });
});
const judge = (q: Parameters<typeof judgeHookAsk>[0]): ReturnType<typeof judgeHookAsk> => judgeHookAsk(q, { loaded: policy.loaded, decide: (s) => policy.decide(s), path: '/usr/bin:/bin' });

const start: number[] = [];
for (let i = 0; i < N; i++) {
  const t = process.hrtime.bigint();
  const ep = await startAskEndpoint({ judge, ask: (a, s) => service.ask(a, s), ttlMs: service.ttlMs });
  await ep.close();
  start.push(ms(t));
}
const ep = await startAskEndpoint({ judge, ask: (a, s) => service.ask(a, s), ttlMs: service.ttlMs, perMinute: 100_000 });
const call = (command: string): { tool_name: string; tool_input: { command: string }; cwd: string } => ({ tool_name: 'Bash', tool_input: { command }, cwd: root });
const first = process.hrtime.bigint();
await routeAsk(ep.socketPath, call('curl x'), 10_000);
const firstMs = ms(first);
const notAsked: number[] = [];
const asked: number[] = [];
for (let i = 0; i < N; i++) {
  let t = process.hrtime.bigint();
  const r1 = await routeAsk(ep.socketPath, call(`curl http://x/${i}`), 10_000);
  notAsked.push(ms(t));
  t = process.hrtime.bigint();
  const r2 = await routeAsk(ep.socketPath, call(`touch f${i}`), 10_000);
  asked.push(ms(t));
  if (r1.kind !== 'not-asked' || r2.kind !== 'approved') throw new Error(`unexpected: ${r1.kind} ${r2.kind}`);
}
await ep.close();
service.close();
rmSync(root, { recursive: true, force: true });
process.stdout.write([
  `N=${N} (medians)`,
  `endpoint start+stop        ${median(start).toFixed(2)} ms`,
  `first ask (loads the shell parser) ${firstMs.toFixed(1)} ms`,
  `not-asked round trip       ${median(notAsked).toFixed(2)} ms`,
  `asked+approved round trip  ${median(asked).toFixed(2)} ms (includes hashing /usr/bin/touch)`,
  '',
].join('\n'));
