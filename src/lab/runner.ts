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
import { srtApplies } from './srt.js';
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
  /** srt's `srt` (SRT_BIN): run the applicable scenarios under srt too, for the side-by-side column. */
  readonly srtBin?: string;
  /** Extra reason why every scenario is not applicable (e.g. Claude Code unavailable). */
  readonly allUnavailable?: string;
}

export const SRT_NOT_MEASURED = 'srt column: not measured (set SRT_BIN=/path/to/node_modules/.bin/srt of @anthropic-ai/sandbox-runtime)';

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
  const ctx: RunContext = { labRoot: o.labRoot, template, cordonBin: o.cordonBin, distDir: o.distDir, agent: o.agent, shared: snapshot, ...(o.srtBin === undefined ? {} : { srtBin: o.srtBin }), ...(o.runAgent === undefined ? {} : { runAgent: o.runAgent }) };
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
  const srt = new Map<string, NonNullable<ScenarioResult['srt']>>();
  let srtMs: number | undefined;
  let wallMs: number | undefined;
  try {
    await pool(runnable.filter((s) => !s.shared), o.concurrency ?? 2, one);
    await pool(runnable.filter((s) => s.shared), 1, one);
    wallMs = Date.now() - t0;
    if (o.srtBin !== undefined && o.agent === 'shell') {
      // The side-by-side pass: the same steps under srt, timed apart from the lab itself.
      const t1 = Date.now();
      const under: Scenario[] = [];
      for (const s of runnable) {
        const why = srtApplies(s);
        if (why === undefined) under.push(s);
        else srt.set(s.id, { outcome: 'not-applicable', detail: `n/a: ${why}` });
      }
      const oneSrt = async (s: Scenario): Promise<void> => {
        try {
          const r = await runScenario(ctx, s, 'srt');
          const tail = r.outcome === 'contained' || r.outcome === 'succeeded' ? '' : ` | ${(r.evidence?.outputTail ?? '').replace(/\s+/g, ' ').slice(-300)}`;
          srt.set(s.id, { outcome: r.outcome, detail: `${r.detail}${tail}` });
        } catch (e) {
          srt.set(s.id, { outcome: 'error', detail: `the lab failed to run it under srt: ${e instanceof Error ? e.message : String(e)}` });
        }
        o.progress?.(srt.size, runnable.length, { ...notApplicable(s, o.agent, ''), id: `srt: ${s.id}`, outcome: srt.get(s.id)?.outcome ?? 'error' });
      };
      await pool(under.filter((s) => !s.shared), o.concurrency ?? 2, oneSrt);
      await pool(under.filter((s) => s.shared), 1, oneSrt);
      srtMs = Date.now() - t1;
    }
  } finally {
    dns.close();
    await shared.close();
  }
  return {
    agent: o.agent, agentNote: o.agentNote, startedAt, wallMs: wallMs ?? Date.now() - t0,
    results: o.scenarios.map((s) => {
      const r = results.get(s.id);
      const v = srt.get(s.id);
      return r === undefined || v === undefined ? r : { ...r, srt: v };
    }).filter((r): r is ScenarioResult => r !== undefined),
    srtNote: o.srtBin === undefined ? SRT_NOT_MEASURED
      : `srt: ${o.srtBin}, most restrictive documented settings (src/lab/srt.ts); its pass took ${((srtMs ?? 0) / 1000).toFixed(1)} s, apart from the lab's wall time`,
    ...(srtMs === undefined ? {} : { srtWallMs: srtMs }),
  };
}
