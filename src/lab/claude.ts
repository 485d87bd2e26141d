/**
 * `--agent claude`: the real Claude Code binary (devDependency
 * @anthropic-ai/claude-code) runs inside `cordon run`, driven by a scripted
 * Messages API server on the lab's loopback that plays the scenario's tool
 * calls one by one. The model server is reached through the egress proxy like
 * any destination (the lab policy allows its exact address). Tool results
 * Claude Code sends back are appended to the output, so the judge sees what
 * the agent saw.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startModelServer, type ScriptedCall } from './model-server.js';
import type { RunContext, ScenarioDirs } from './run-one.js';
import type { Scenario } from './schema.js';
import { run, type Spawned } from './spawn.js';

export interface ClaudeAgent {
  readonly note: string;
  readonly runAgent?: RunContext['runAgent'];
  readonly unavailable?: string;
}

const KEEP = ['ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY', 'IS_SANDBOX', 'DISABLE_AUTOUPDATER', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', 'DISABLE_TELEMETRY', 'DISABLE_ERROR_REPORTING'];

function fillDeep(v: unknown, fill: (t: string) => string): unknown {
  if (typeof v === 'string') return fill(v);
  if (Array.isArray(v)) return v.map((x) => fillDeep(x, fill));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillDeep(x, fill)]));
  return v;
}

export function claudeAgent(claudeBin: string | undefined, cordonBin: string): Promise<ClaudeAgent> {
  if (claudeBin === undefined || !existsSync(claudeBin)) {
    return Promise.resolve({ note: 'Claude Code (unavailable)', unavailable: 'the Claude Code binary is not installed (npm ci installs the devDependency @anthropic-ai/claude-code)' });
  }
  const exe = realpathSync(claudeBin);
  const v = spawnSync(exe, ['--version'], { encoding: 'utf8', timeout: 30_000, env: { PATH: '/usr/bin:/bin', HOME: path.dirname(exe), DISABLE_AUTOUPDATER: '1' } });
  if (v.status !== 0) return Promise.resolve({ note: 'Claude Code (unavailable)', unavailable: `the Claude Code binary does not run here: ${(v.stderr || v.error?.message || '').slice(0, 200)}` });
  const version = v.stdout.trim();
  const runAgent = async (s: Scenario, dirs: ScenarioDirs, env: NodeJS.ProcessEnv, fill: (t: string) => string): Promise<Spawned> => {
    const script: ScriptedCall[] = (s.claude ?? []).map((c) => ({ name: c.name, input: fillDeep(c.input, fill) as Record<string, unknown> }));
    const model = await startModelServer(script, 'All scripted steps are done.');
    try {
      const extra = path.join(dirs.dir, 'claude-policy.yaml');
      const port = new URL(model.url).port;
      writeFileSync(extra, `version: 1\nextends: []\npermissions:\n  allow:\n    - "Net(127.0.0.1:${port})"\n    - "Read(//${path.dirname(exe).slice(1)})"\n`);
      const childEnv: NodeJS.ProcessEnv = {
        ...env, ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'lab-placeholder', IS_SANDBOX: '1', DISABLE_AUTOUPDATER: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1',
      };
      const argv = [cordonBin, 'run', '--policy', dirs.policy, '--policy', extra, '--keep-env', ...KEEP, '--',
        exe, '-p', 'Follow the scripted steps.', '--dangerously-skip-permissions', '--output-format', 'json', '--model', 'claude-sonnet-4-5', '--max-turns', String(script.length + 4)];
      const out = await run(argv, { cwd: dirs.ws, env: childEnv, timeoutMs: Math.max(s.timeoutMs, 90_000) });
      const results = [...model.results.values()].map((r) => `[tool ${r.toolUseId}${r.isError ? ' error' : ''}]\n${r.text}`).join('\n');
      const steps = model.results.size;
      return {
        ...out, stdout: `${results}\n${out.stdout}`,
        ...(steps < script.length ? { incomplete: `Claude Code carried out ${steps} of ${script.length} scripted tool calls (see its output)` } : {}),
      };
    } finally {
      await model.close();
    }
  };
  return Promise.resolve({ note: `Claude Code ${version} (real binary) inside cordon run, driven by a scripted model server on the lab's loopback`, runAgent });
}
