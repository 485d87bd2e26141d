/**
 * The terminal channel: each pending approval is shown whole on the
 * controlling terminal of `cordon run` (`/dev/tty`, not stdout: stdout may be
 * a pipe or an MCP stream) and answered with y or n. One prompt at a time;
 * an approval answered elsewhere (cordon approvals, cordon ui, webhook) or
 * expired is withdrawn from the prompt. Only "y" or "yes" approves.
 */
import { closeSync, openSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { ReadStream, WriteStream } from 'node:tty';
import { formatPending } from './show.js';
import type { ApprovalService, PendingApproval } from './service.js';

export interface TtyChannel {
  close(): void;
}

/** Opens the terminal; undefined when there is none (no controlling terminal: unattended). */
export function openTty(path = '/dev/tty'): { input: ReadStream; output: WriteStream } | undefined {
  let rfd: number | undefined;
  try {
    rfd = openSync(path, 'r');
    const wfd = openSync(path, 'w');
    return { input: new ReadStream(rfd), output: new WriteStream(wfd) };
  } catch {
    if (rfd !== undefined) closeSync(rfd);
    return undefined;
  }
}

export function ttyAvailable(path = '/dev/tty'): boolean {
  try {
    closeSync(openSync(path, 'r'));
    return true;
  } catch {
    return false;
  }
}

export function startTtyChannel(service: ApprovalService, path = '/dev/tty'): TtyChannel | undefined {
  const tty = openTty(path);
  if (tty === undefined) return undefined;
  const { input, output } = tty;
  input.pause();
  input.unref();
  const queue: PendingApproval[] = [];
  let current: PendingApproval | undefined;
  let rl: Interface | undefined;

  const next = (): void => {
    current = queue.shift();
    if (current === undefined) {
      input.pause();
      input.unref();
      return;
    }
    const p = current;
    input.ref();
    output.write(`\ncordon: a rule asks for your approval\n${formatPending(p)}approve this exact request once? [y/N] (or answer with cordon approvals / cordon ui) `);
    rl ??= createInterface({ input, terminal: false });
    rl.once('line', (line) => {
      if (current?.id !== p.id) return;
      const yes = /^\s*(y|yes)\s*$/i.test(line);
      const r = service.answer({ id: p.id, hash: p.hash, verdict: yes ? 'approve' : 'deny', by: 'tty' });
      output.write(r.ok ? `cordon: ${yes ? 'approved' : 'denied'} ${p.id}\n` : `cordon: ${r.message}\n`);
      if (r.ok && yes && p.suggestion !== undefined) output.write(`cordon: this approval is not remembered; to allow it always, add "${p.suggestion}" to permissions.allow\n`);
      next();
    });
  };

  const off = service.on((e) => {
    if (e.kind === 'pending') {
      queue.push(e.approval);
      if (current === undefined) next();
      return;
    }
    const i = queue.findIndex((q) => q.id === e.id);
    if (i !== -1) queue.splice(i, 1);
    if (current?.id === e.id) {
      output.write(`\ncordon: ${e.id} was ${e.approved ? 'approved' : 'denied'} elsewhere or expired: ${e.reason}\n`);
      rl?.removeAllListeners('line');
      next();
    }
  });
  return {
    close: () => {
      off();
      rl?.close();
      input.destroy();
      output.destroy();
    },
  };
}
