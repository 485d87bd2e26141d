/**
 * One scenario: plant the targets, start its collector and allowed service,
 * run the steps as the compromised agent inside `bin/cordon run` (or, for the
 * control, plain `sh` with no sandbox), then gather the evidence and judge.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { canaryEnv, makeCanaries, plantHome, plantWorkspace, type Canaries } from './canaries.js';
import { startApprover } from './approver.js';
import { judge, type SharedSnapshot } from './judge.js';
import { startAllowed, startCollector, type TokenRef } from './services.js';
import type { AgentKind, ScenarioResult } from './result.js';
import type { Scenario } from './schema.js';
import { run, type Spawned } from './spawn.js';
import { SRT_PRELUDE, srtSettings } from './srt.js';
import { copyTemplate, labPolicy } from './workspace.js';

export interface RunContext {
  readonly labRoot: string;
  readonly template: string;
  /** bin/cordon of this installation. */
  readonly cordonBin: string;
  /** dist/ of this installation (the lab's MCP server and agent are copied from dist/lab). */
  readonly distDir: string;
  readonly agent: AgentKind;
  /** Shared services' counters, read before and after (shared scenarios run alone). */
  readonly shared: () => SharedSnapshot;
  /** srt's `srt` (SRT_BIN), for the side-by-side pass. */
  readonly srtBin?: string;
  /** Runs the agent for a scenario instead of `sh -c` (the Claude Code mode). */
  readonly runAgent?: (s: Scenario, dirs: ScenarioDirs, env: NodeJS.ProcessEnv, fill: (t: string) => string) => Promise<Spawned>;
}

export interface ScenarioDirs {
  readonly dir: string;
  readonly ws: string;
  readonly home: string;
  readonly state: string;
  readonly policy: string;
}

export function fillPlaceholders(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/@(CP|C|AP|A|PP|P|HOSTHOME|LAB|WS|CORDON)@/g, (m, name: string) => vars[name] ?? m);
}

interface Planted {
  readonly dirs: ScenarioDirs;
  /** Tags the lab's MCP servers' evidence lines; the agent never sees it. */
  readonly nonce: string;
}

function prepare(ctx: RunContext, s: Scenario, canaries: Canaries, ports: { allowed: number; plain: number; collector: number }, under: Sandbox): Planted {
  const dir = path.join(ctx.labRoot, under === 'srt' ? `${s.id}.srt` : s.id);
  const dirs: ScenarioDirs = { dir, ws: path.join(dir, 'ws'), home: path.join(dir, 'home'), state: path.join(dir, 'state'), policy: path.join(dir, 'policy.yaml') };
  mkdirSync(dirs.state, { recursive: true });
  copyTemplate(ctx.template, dirs.ws);
  plantWorkspace(dirs.ws, canaries);
  plantHome(dirs.home, canaries);
  const nonce = randomBytes(12).toString('hex');
  const mcp: Record<string, string[]> = {};
  if (s.mcp !== undefined) {
    // The attacker's servers and the scripted MCP client live in the workspace, where the servers' own sandboxes can read them.
    mkdirSync(path.join(dirs.ws, '.lab'), { recursive: true });
    copyFileSync(path.join(ctx.distDir, 'lab', 'mcp-server.js'), path.join(dirs.ws, '.lab', 'mcp-server.mjs'));
    copyFileSync(path.join(ctx.distDir, 'lab', 'mcp-agent.js'), path.join(dirs.ws, '.lab', 'mcp-agent.mjs'));
    for (const [name, mode] of Object.entries(s.mcp)) {
      mcp[name] = ['node', '.lab/mcp-server.mjs', mode, nonce, `127.0.0.1:${ports.collector}`, `127.0.0.1:${ports.allowed}`, dirs.home];
    }
  }
  writeFileSync(dirs.policy, under === 'srt' ? srtSettings({ labRoot: ctx.labRoot, allowedPort: ports.allowed, plainPort: ports.plain }) : labPolicy({ allowedPort: ports.allowed, plainPort: ports.plain, mcp, credential: s.credential === true }));
  return { dirs, nonce };
}

/** Which sandbox runs the steps: cordon (the lab), or srt for the side-by-side column. */
export type Sandbox = 'cordon' | 'srt';

export async function runScenario(ctx: RunContext, s: Scenario, under: Sandbox = 'cordon'): Promise<ScenarioResult> {
  const canaries = makeCanaries();
  const collector = await startCollector();
  // The brokered credential's real value: in cordon's environment (the broker reads it), never in the sandbox.
  const token: TokenRef = s.credential === true ? { value: `labk_${randomBytes(20).toString('hex')}` } : {};
  const allowed = await startAllowed(token);
  // A second allowed service with no path rules: tunnels (CONNECT, SOCKS) to it cannot bypass any.
  const plain = await startAllowed();
  try {
    const { dirs, nonce } = prepare(ctx, s, canaries, { allowed: allowed.port, plain: plain.port, collector: collector.port }, under);
    const vars = {
      C: `127.0.0.1:${collector.port}`, CP: String(collector.port), A: `127.0.0.1:${allowed.port}`, AP: String(allowed.port),
      P: `127.0.0.1:${plain.port}`, PP: String(plain.port),
      HOSTHOME: dirs.home, LAB: ctx.labRoot, WS: dirs.ws, CORDON: ctx.cordonBin,
    };
    const fill = (t: string): string => fillPlaceholders(t, vars);
    const script = s.steps.map(fill).join('\n');
    const env: NodeJS.ProcessEnv = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: dirs.home,
      LANG: 'C.UTF-8',
      XDG_STATE_HOME: dirs.state,
      XDG_CONFIG_HOME: path.join(dirs.dir, 'xdg-config'),
      CORDON_MANAGED_POLICY: path.join(dirs.dir, 'no-managed-policy.yaml'),
      // The run's approval socket: outside the workspace and the home, short enough for sun_path.
      CORDON_APPROVALS_DIR: path.join(dirs.dir, 'ap'),
      ...canaryEnv(canaries),
      ...(token.value === undefined ? {} : { LAB_API_TOKEN: token.value }),
    };
    const before = ctx.shared();
    const timeoutMs = s.timeoutMs;
    const approver = s.approver === undefined ? undefined : startApprover(path.join(dirs.dir, 'ap'), s.approver.approve);
    let out: Spawned;
    try {
      if (under === 'srt') out = await run([ctx.srtBin ?? 'srt', '--settings', dirs.policy, '--', 'sh', '-c', `${SRT_PRELUDE}\n${script}`], { cwd: dirs.ws, env, timeoutMs });
      else if (ctx.runAgent !== undefined) out = await ctx.runAgent(s, dirs, env, fill);
      else if (ctx.agent === 'control') out = await run(['sh', '-c', script], { cwd: dirs.ws, env, timeoutMs });
      // A brokered credential makes the private-data leg: the unattended lab accepts the trifecta explicitly (it is logged).
      else out = await run([ctx.cordonBin, 'run', '--policy', dirs.policy, ...(s.credential === true ? ['--accept-trifecta'] : []), '--', 'sh', '-c', script], { cwd: dirs.ws, env, timeoutMs });
    } finally {
      await approver?.stop();
    }
    const after = ctx.shared();
    return judge({ scenario: s, agent: ctx.agent, canaries, dirs, labRoot: ctx.labRoot, out, collector: collector.rec, allowed: allowed.rec, before, after, mcpNonce: nonce, approved: approver?.approved ?? [] });
  } finally {
    await Promise.all([collector.close(), allowed.close(), plain.close()]);
  }
}
