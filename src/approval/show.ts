/**
 * A pending approval as a person reads it in a terminal: everything whole,
 * control, bidi and zero-width characters made visible, and the length of
 * every long value stated (a body preview says how much of the body it is).
 */
import { sanitizeForDisplay } from '../audit/redact.js';
import type { PendingApproval } from './service.js';

const s = sanitizeForDisplay;

function sized(label: string, value: string): string {
  const chars = Array.from(value).length;
  return chars > 200 ? `${label} (${chars} characters, shown whole):\n    ${s(value)}` : `${label}: ${s(value)}`;
}

export function secondsLeft(p: PendingApproval, now = Date.now()): number {
  return Math.max(0, Math.round((Date.parse(p.expiresAt) - now) / 1000));
}

export function formatPending(p: PendingApproval, now = Date.now()): string {
  const r = p.request;
  const lines = [`approval ${p.id} (session ${p.session}, from the ${p.boundary} boundary, ${secondsLeft(p, now)} s left)`];
  switch (r.kind) {
    case 'http':
      lines.push(`  request: ${s(r.method)} ${s(r.host)}:${r.port}`);
      lines.push(`  ${sized('path and query', r.target)}`);
      lines.push(`  body: ${r.bodyLength} bytes, sha256 ${r.bodySha256}`);
      if (p.preview !== undefined) {
        const shown = Buffer.byteLength(p.preview);
        lines.push(`  body ${shown >= r.bodyLength ? `(all ${r.bodyLength} bytes)` : `(first ${shown} of ${r.bodyLength} bytes; the hash covers all of it)`}:`, `    ${s(p.preview)}`);
      }
      break;
    case 'tunnel':
      lines.push(`  tunnel to ${s(r.host)}:${r.port} (CONNECT or SOCKS: its contents cannot be inspected; approving allows this one tunnel)`);
      break;
    case 'mcp':
      lines.push(`  MCP tool: ${s(r.server)} / ${s(r.tool)}`, `  ${sized('arguments', r.arguments)}`);
      break;
    case 'command':
      lines.push(`  ${sized('command', r.command)}`, `  cwd: ${s(r.cwd)}`);
      if (r.executable !== null) lines.push(`  executable: ${s(r.executable)} (sha256 ${r.executableSha256 ?? 'unknown'})`);
      break;
    case 'tool':
      lines.push(`  tool: ${s(r.tool)}`, `  ${sized('input', r.input)}`, `  cwd: ${s(r.cwd)}`);
      break;
  }
  lines.push(`  subject: ${s(p.subject)}`, `  rule: ${s(p.rule)}`, `  why: ${s(p.reason)}`, `  sha256 of the exact request: ${p.hash}`);
  if (p.suggestion !== undefined) lines.push(`  to stop being asked, a person can add "${s(p.suggestion)}" to permissions.allow (approvals are never remembered)`);
  return `${lines.join('\n')}\n`;
}
