/**
 * `cordon approvals [list|approve ID|deny ID] [--json] [--hash SHA256]`: the
 * pending approvals of every running `cordon run` session of this user, read
 * and answered through each session's Unix socket (answers signed with the
 * session's key). Exit 0 done; 1 no such pending approval; 2 usage.
 */
import { approvalsDir } from '../approval/paths.js';
import { openSessions, readKey, type RunningSession } from '../approval/client.js';
import { escapeJsonForDisplay } from '../audit/redact.js';
import { formatPending } from '../approval/show.js';
import type { PendingApproval } from '../approval/service.js';
import { CordonError } from '../errors.js';

export interface ApprovalsOptions {
  readonly json?: boolean;
  /** Answer only if the pending request still has this hash (what you reviewed). */
  readonly hash?: string;
}

async function gather(sessions: readonly RunningSession[]): Promise<{ s: RunningSession; p: PendingApproval }[]> {
  const out: { s: RunningSession; p: PendingApproval }[] = [];
  for (const s of sessions) {
    for (const p of await s.connection.list()) out.push({ s, p });
  }
  return out;
}

export async function approvalsCommand(action: string | undefined, id: string | undefined, opts: ApprovalsOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const act = action ?? 'list';
  if (!['list', 'approve', 'deny'].includes(act)) throw new CordonError('CORDON_USAGE', `unknown action '${act}'; use list, approve ID or deny ID`);
  if (act !== 'list' && id === undefined) throw new CordonError('CORDON_USAGE', `cordon approvals ${act} needs the approval id (a_...) shown by cordon approvals`);
  if (opts.hash !== undefined && !/^[0-9a-f]{64}$/.test(opts.hash)) throw new CordonError('CORDON_USAGE', '--hash takes the 64 hex digits of the request\'s sha256');
  const dir = approvalsDir(env);
  const sessions = await openSessions(dir);
  try {
    const all = await gather(sessions);
    if (act === 'list') {
      if (opts.json === true) {
        const out = { sessions: sessions.map((s) => ({ session: s.hello.session, command: s.hello.command, workspace: s.hello.workspace, pid: s.hello.pid, ttlMs: s.hello.ttlMs, channels: s.hello.channels, trifecta: s.hello.trifecta })), pending: all.map((x) => x.p) };
        process.stdout.write(`${escapeJsonForDisplay(JSON.stringify(out))}\n`);
      } else if (sessions.length === 0) {
        process.stdout.write(`no running cordon session has an approval socket in ${dir}\n`);
      } else if (all.length === 0) {
        process.stdout.write(`no pending approvals (${sessions.length} running session${sessions.length === 1 ? '' : 's'})\n`);
      } else {
        for (const { p } of all) process.stdout.write(`${formatPending(p)}\n`);
        process.stdout.write('answer with: cordon approvals approve ID   or   cordon approvals deny ID\n');
      }
      return 0;
    }
    const hit = all.find((x) => x.p.id === id);
    if (hit === undefined) {
      process.stderr.write(`cordon approvals: no pending approval ${id ?? ''} in any running session (answered, expired or never existed)\n`);
      return 1;
    }
    if (opts.hash !== undefined && opts.hash !== hit.p.hash) {
      process.stderr.write(`cordon approvals: ${hit.p.id} is for a request with sha256 ${hit.p.hash}, not the one you gave; nothing was decided\n`);
      return 1;
    }
    const verdict = act === 'approve' ? 'approve' : 'deny';
    await hit.s.connection.answer(readKey(hit.s.keyFile), { session: hit.s.hello.session, id: hit.p.id, hash: hit.p.hash, verdict, by: 'cordon approvals' });
    if (opts.json === true) {
      process.stdout.write(`${JSON.stringify({ id: hit.p.id, hash: hit.p.hash, verdict })}\n`);
    } else {
      process.stdout.write(`${formatPending(hit.p)}${verdict === 'approve' ? 'approved' : 'denied'} ${hit.p.id} (this exact request, once)\n`);
      if (verdict === 'approve' && hit.p.suggestion !== undefined) process.stdout.write(`approvals are never remembered; to allow this always, add "${hit.p.suggestion}" to permissions.allow\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof CordonError && e.code === 'CORDON_APPROVAL') {
      process.stderr.write(`cordon approvals: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    for (const s of sessions) s.connection.close();
  }
}
