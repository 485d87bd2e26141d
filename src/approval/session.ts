/**
 * The approval service of one `cordon run` session, wired to its channels
 * from policy `approvals` (ttl, channels: tty, web, webhook): the Unix socket
 * (always, for `cordon approvals` and `cordon ui`), the terminal prompt and
 * the webhook. Lives in the supervisor; nothing here is reachable from the
 * sandbox. When no channel can reach a person, an ask is a deny at once.
 */
import { onDecision, publishDecision } from '../audit/publish.js';
import { DecisionEventSchema } from '../audit/record.js';
import type { PolicyFile } from '../policy/schema.js';
import { approvalsDir } from './paths.js';
import type { AskInput } from './request.js';
import { ApprovalService, parseTtl, type Outcome } from './service.js';
import { startApprovalSocket, type ApprovalSocket } from './socket-server.js';
import type { Trifecta } from './trifecta.js';
import { startTtyChannel, ttyAvailable, type TtyChannel } from './tty.js';
import { startWebhookChannel, WEBHOOK_SECRET_ENV, type WebhookChannel } from './webhook.js';

export type ChannelName = 'tty' | 'web' | 'webhook';
export const DEFAULT_CHANNELS: readonly ChannelName[] = ['tty', 'web'];

export interface SessionApprovalsOptions {
  readonly session: string;
  readonly settings: PolicyFile['approvals'];
  readonly trifecta: Trifecta;
  readonly command: string;
  readonly workspace: string;
  readonly env: NodeJS.ProcessEnv;
  /** True when a path would be visible inside the sandbox: the socket directory must not be. */
  readonly visibleInSandbox: (path: string) => boolean;
  readonly ttyPath?: string;
  readonly log?: (line: string) => void;
}

export interface SessionApprovals {
  readonly service: ApprovalService;
  readonly socketPath: string | undefined;
  /** Channels actually running (`socket` is the Unix socket behind `cordon approvals` and `cordon ui`). */
  readonly active: readonly string[];
  /** A person can be reached right now: a terminal (for the prompt or to start cordon approvals/ui) or a webhook. */
  readonly attended: boolean;
  ask(input: AskInput, signal?: AbortSignal): Promise<Outcome>;
  close(): Promise<void>;
}

export async function startSessionApprovals(o: SessionApprovalsOptions): Promise<SessionApprovals> {
  const log = o.log ?? ((l: string) => void process.stderr.write(`cordon: ${l}\n`));
  const channels = o.settings?.channels ?? DEFAULT_CHANNELS;
  const service = new ApprovalService({ session: o.session, ttlMs: parseTtl(o.settings?.ttl), publish: (e) => void publishDecision(e) });
  const active: string[] = [];
  const hasTty = ttyAvailable(o.ttyPath);

  let socket: ApprovalSocket | undefined;
  const dir = approvalsDir(o.env);
  if (o.visibleInSandbox(dir)) {
    log(`warning: the approvals directory ${dir} would be visible inside the sandbox, so no approval socket was opened (set CORDON_APPROVALS_DIR elsewhere)`);
  } else {
    try {
      socket = await startApprovalSocket({
        service, dir,
        info: { command: o.command, workspace: o.workspace, pid: process.pid, channels: [...channels], trifecta: o.trifecta },
      });
      active.push('socket');
    } catch (e) {
      log(`warning: no approval socket (${e instanceof Error ? e.message : String(e)}); cordon approvals and cordon ui cannot reach this session`);
    }
  }
  const offDecisions = socket === undefined ? () => undefined : onDecision((m) => {
    const r = DecisionEventSchema.safeParse(m);
    if (r.success) socket?.decision(r.data);
  });

  let tty: TtyChannel | undefined;
  if (channels.includes('tty') && hasTty) {
    tty = startTtyChannel(service, o.ttyPath);
    if (tty !== undefined) active.push('tty');
  }

  let webhook: WebhookChannel | undefined;
  if (channels.includes('webhook')) {
    const url = o.settings?.webhook;
    const secret = o.env[WEBHOOK_SECRET_ENV];
    if (url === undefined) log('warning: approvals.channels lists webhook but approvals.webhook is not set; no webhook channel');
    else if (secret === undefined || secret === '') log(`warning: approvals.webhook is set but ${WEBHOOK_SECRET_ENV} is not; webhook answers could not be verified, so no webhook channel`);
    else {
      try {
        webhook = await startWebhookChannel(service, { url, secret, log: (l) => log(`webhook: ${l}`) });
        active.push('webhook');
      } catch (e) {
        log(`warning: no webhook channel (${e instanceof Error ? e.message : String(e)})`);
      }
    }
  }

  return {
    service,
    socketPath: socket?.path,
    active,
    attended: tty !== undefined || webhook !== undefined || (socket !== undefined && hasTty),
    ask: (input, signal) => active.length === 0
      ? Promise.resolve(service.refuse(input, 'No approval channel is running (no socket, terminal or webhook); an ask is a deny.'))
      : service.ask(input, signal),
    close: async () => {
      service.close();
      offDecisions();
      tty?.close();
      await Promise.all([socket?.close(), webhook?.close()]);
    },
  };
}
