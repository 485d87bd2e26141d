/**
 * The lab runner (inside the lab's network namespace): shared services,
 * capabilities, then every selected scenario through `bin/cordon run`, two at
 * a time; scenarios using the shared services run alone, after the others.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { detectCapabilities, unmet, type Capabilities } from './capabilities.js';
import { startDns } from './dns.js';
import type { SharedSnapshot } from './judge.js';
import type { AgentKind, LabReport, ScenarioResult } from './result.js';
import { runScenario, type RunContext } from './run-one.js';
import type { Scenario } from './schema.js';
import { startShared } from './services.js';
import { makeTemplate } from './workspace.js';

export interface RunLabOptions {
  readonly scenarios: readonly Scenario[];
  readonly labRoot: string;
  readonly cordonBin: string;
  readonly distDir: string;
  readonly agent: AgentKind;
  readonly agentNote: string;
  readonly ipv6: boolean;
  readonly concurrency?: number;
  readonly progress?: (done: number, total: number, r: ScenarioResult) => void;
  readonly runAgent?: RunContext['runAgent'];
  /** Extra reason why every scenario is not applicable (e.g. Claude Code unavailable). */
  readonly allUnavailable?: string;
}

function notApplicable(s: Scenario, agent: AgentKind, why: string): ScenarioResult {
  return { id: s.id, class: s.class, title: s.title, kind: s.class === 'benign' ? 'benign' : 'attack', agent, outcome: 'not-applicable', detail: `not applicable yet: ${why}`, stoppedBy: [], expected: s.stoppedBy, evidence: undefined };
}

async function pool<T>(items: readonly T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, width) }, worker));
}

export async function runLab(o: RunLabOptions): Promise<LabReport> {
  const t0 = Date.now();
  const startedAt = new Date().toISOString();
  const template = path.join(o.labRoot, 'template');
  mkdirSync(o.labRoot, { recursive: true });
  makeTemplate(template);
  const caps: Capabilities = detectCapabilities(o.distDir, o.ipv6);
  const dns = await startDns();
  const shared = await startShared(o.ipv6);
  const snapshot = (): SharedSnapshot => ({
    dns: [...dns.queries],
    metadata: shared.metadata.reduce((n, s) => n + s.rec.connections, 0),
    internal: shared.internal.rec.connections,
  });
  const ctx: RunContext = { labRoot: o.labRoot, template, cordonBin: o.cordonBin, distDir: o.distDir, agent: o.agent, shared: snapshot, ...(o.runAgent === undefined ? {} : { runAgent: o.runAgent }) };
  const results = new Map<string, ScenarioResult>();
  let done = 0;
  const record = (r: ScenarioResult): void => {
    results.set(r.id, r);
    done += 1;
    o.progress?.(done, o.scenarios.length, r);
  };
  const runnable: Scenario[] = [];
  for (const s of o.scenarios) {
    const why = o.allUnavailable ?? unmet(s.needs, caps);
    if (why === undefined) runnable.push(s);
    else record(notApplicable(s, o.agent, why));
  }
  const one = async (s: Scenario): Promise<void> => {
    try {
      record(await runScenario(ctx, s));
    } catch (e) {
      record({ ...notApplicable(s, o.agent, ''), outcome: 'error', detail: `the lab failed to run it: ${e instanceof Error ? e.message : String(e)}` });
    }
  };
  try {
    await pool(runnable.filter((s) => !s.shared), o.concurrency ?? 2, one);
    await pool(runnable.filter((s) => s.shared), 1, one);
  } finally {
    dns.close();
    await shared.close();
  }
  return {
    agent: o.agent, agentNote: o.agentNote, startedAt, wallMs: Date.now() - t0,
    results: o.scenarios.map((s) => results.get(s.id)).filter((r): r is ScenarioResult => r !== undefined),
  };
}
