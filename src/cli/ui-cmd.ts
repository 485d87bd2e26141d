/** `cordon ui`: the local approvals dashboard; prints its URL (with the token) and runs until stopped. */
import { writeFileSync } from 'node:fs';
import { approvalsDir } from '../approval/paths.js';
import { startDashboard } from '../approval/web/server.js';
import { CordonError } from '../errors.js';

export async function uiCommand(opts: { port?: number; openUrlFile?: string }): Promise<number> {
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) throw new CordonError('CORDON_USAGE', '--port takes a port number');
  const dir = approvalsDir();
  const d = await startDashboard({ dir, ...(opts.port === undefined ? {} : { port: opts.port }) });
  if (opts.openUrlFile !== undefined) writeFileSync(opts.openUrlFile, `${d.url}\n`, { mode: 0o600 });
  process.stdout.write(`cordon ui: open ${d.url}\n(the token in the URL is the only key to this page; it changes each time; Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await d.close();
  return 0;
}
