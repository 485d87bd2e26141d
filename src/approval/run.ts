/**
 * What `cordon run` does about approvals before the command starts: analyse
 * the trifecta of the effective policy, start the session's approval service
 * and channels, and refuse to start unattended (no person reachable) with all
 * three legs unless `--accept-trifecta` was given, which is logged.
 */
import { publishDecision } from '../audit/publish.js';
import { sanitizeForDisplay } from '../audit/redact.js';
import { CordonError } from '../errors.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { Decision, Subject } from '../policy/types.js';
import type { AskEndpoint } from './ask-endpoint.js';
import { startSessionApprovals, type SessionApprovals } from './session.js';
import { analyseTrifecta, formatTrifecta } from './trifecta.js';

export interface RunApprovalsOptions {
  readonly loaded: Pick<LoadedPolicy, 'rules' | 'settings' | 'context'>;
  readonly session: string;
  readonly command: readonly string[];
  readonly acceptTrifecta: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Paths bound into the sandbox (workspace, read-only and read-write binds). */
  readonly boundPaths: readonly string[];
  /** The terminal for prompts (default `$CORDON_APPROVAL_TTY`, else /dev/tty). */
  readonly ttyPath?: string;
}

function overlaps(a: string, b: string): boolean {
  const under = (p: string, root: string): boolean => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);
  return under(a, b) || under(b, a);
}

export async function startRunApprovals(o: RunApprovalsOptions): Promise<SessionApprovals> {
  const trifecta = analyseTrifecta(o.loaded);
  const approvals = await startSessionApprovals({
    session: o.session,
    settings: o.loaded.settings.approvals,
    trifecta,
    command: o.command.join(' '),
    workspace: o.loaded.context.workspace,
    env: o.env,
    visibleInSandbox: (p) => o.boundPaths.some((b) => overlaps(p, b)),
    ...(o.ttyPath !== undefined ? { ttyPath: o.ttyPath } : o.env['CORDON_APPROVAL_TTY'] ? { ttyPath: o.env['CORDON_APPROVAL_TTY'] } : {}),
  });
  if (trifecta.all && !approvals.attended) {
    const subject = `Trifecta(${o.command.join(' ')})`;
    if (!o.acceptTrifecta) {
      publishDecision({ boundary: 'supervisor', subject, decision: 'deny', rule: 'trifecta (unattended)', reason: `${trifecta.summary} No approval channel can reach a person, so the run was refused; pass --accept-trifecta to run anyway.` });
      await approvals.close();
      throw new CordonError('CORDON_TRIFECTA', `refusing to start unattended: ${trifecta.summary}\n${formatTrifecta(trifecta, sanitizeForDisplay)}No person can be reached for approvals (no terminal, no webhook). Narrow the policy, run from a terminal, configure approvals.webhook, or pass --accept-trifecta (logged).`);
    }
    publishDecision({ boundary: 'supervisor', subject, decision: 'allow', rule: '--accept-trifecta', reason: `${trifecta.summary} Started unattended because --accept-trifecta was given.` });
  }
  return approvals;
}

/**
 * The ask-only endpoint for a harness hook inside the sandbox (`ask-endpoint.ts`),
 * when a channel can reach a person; calls are judged with the session's own policy.
 */
export async function startRunAskEndpoint(o: {
  readonly approvals: SessionApprovals;
  readonly policy: () => Promise<{ readonly loaded: LoadedPolicy; readonly engine: { decide(s: Subject): Decision } }>;
  /** The sandbox's PATH. */
  readonly searchPath: string;
}): Promise<AskEndpoint | undefined> {
  if (o.approvals.active.length === 0) return undefined;
  const { startAskEndpoint } = await import('./ask-endpoint.js');
  return startAskEndpoint({
    ttlMs: o.approvals.service.ttlMs,
    ask: (input, signal) => o.approvals.ask(input, signal),
    judge: async (q) => {
      const [{ judgeHookAsk }, p] = await Promise.all([import('./hook-ask.js'), o.policy()]);
      return judgeHookAsk(q, { loaded: p.loaded, decide: (s) => p.engine.decide(s), path: o.searchPath });
    },
  });
}
