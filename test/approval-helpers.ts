/** Shared set-up of the approval end-to-end tests: a workspace whose policy asks before POST /upload to a local upstream. */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSessions } from '../src/approval/client.js';
import type { PendingApproval } from '../src/approval/service.js';

export const hasBwrap = ['/usr/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));
export const hasCurl = existsSync('/usr/bin/curl');
export const runSkip = !hasBwrap ? 'bubblewrap is not installed (apt-get install -y bubblewrap)' : !hasCurl ? 'curl is not installed (apt-get install -y curl)' : false;

export interface ApprovalWorld {
  readonly root: string;
  readonly ws: string;
  /** CORDON_APPROVALS_DIR of the run (short, outside the workspace). */
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
}

export function approvalWorld(upstreamPort: number, ttl = '20s', extra = ''): ApprovalWorld {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-ap-'));
  const ws = path.join(root, 'ws');
  mkdirSync(ws);
  writeFileSync(path.join(ws, 'cordon.yaml'), [
    'version: 1',
    'permissions:',
    `  ask: ["Http(POST 127.0.0.1:${upstreamPort}/upload)"]`,
    `  allow: ["Net(127.0.0.1:${upstreamPort})"]`,
    `approvals: { ttl: ${ttl}, channels: [web] }`,
    extra,
  ].join('\n'));
  const dir = path.join(root, 'ap');
  return { root, ws, dir, env: { XDG_STATE_HOME: path.join(root, 'state'), CORDON_APPROVALS_DIR: dir } };
}

/** A curl POST inside the sandbox printing `NAME=<status>` and the response body. */
export function post(name: string, port: number, body: string, urlPath = '/upload'): string {
  return `echo "${name}=$(curl -s -o /tmp/${name}.out -w '%{http_code}' -X POST --data-binary '${body}' http://127.0.0.1:${port}${urlPath})"; cat /tmp/${name}.out; echo`;
}

/** Polls the running sessions until `n` approvals are pending (or throws after `ms`). */
export async function waitPending(dir: string, n = 1, ms = 30_000): Promise<PendingApproval[]> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const sessions = await openSessions(dir);
    try {
      const all: PendingApproval[] = [];
      for (const s of sessions) all.push(...(await s.connection.list()));
      if (all.length >= n) return all;
    } finally {
      for (const s of sessions) s.connection.close();
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`no ${n} pending approval(s) in ${dir} within ${ms} ms`);
}
