/** The terminal report: a progress line while running, then tables, the not-applicable list and the totals. */
import { sanitizeForDisplay } from '../audit/redact.js';
import { srtTotals, totals, type LabReport, type ScenarioResult, type SrtTotals } from './result.js';

const MARK: Record<ScenarioResult['outcome'], string> = {
  contained: 'contained', breached: 'BREACHED', succeeded: 'ok', failed: 'FAILED', 'not-applicable': 'n/a yet', error: 'ERROR',
};

/** Progress on stderr: one rewritten line on a terminal, one line per scenario otherwise. */
export function progressPrinter(tty: boolean): (done: number, total: number, r: ScenarioResult) => void {
  return (done, total, r) => {
    const width = 24;
    const filled = Math.round((done / Math.max(1, total)) * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const line = `cordon lab ${bar} ${done}/${total} ${MARK[r.outcome]} ${r.id}`;
    process.stderr.write(tty ? `\r\x1b[2K${line}${done === total ? '\n' : ''}` : `${line}\n`);
  };
}

/** Multi-line text with every line made safe for a terminal (control, bidi, zero-width characters visible). */
export function visibleLines(text: string): string[] {
  return text.replace(/\r\n/g, '\n').split('\n').map(sanitizeForDisplay);
}

function cell(text: string, width: number): string {
  const t = sanitizeForDisplay(text.replace(/\s+/g, ' '));
  return t.length <= width ? t.padEnd(width) : `${t.slice(0, width - 1)}…`;
}

export function stopSummary(r: ScenarioResult): string {
  if (r.outcome === 'breached' || r.outcome === 'failed' || r.outcome === 'error') return r.detail;
  const first = r.stoppedBy[0];
  return first === undefined ? `(by design) ${r.expected}` : `${first}${r.stoppedBy.length > 1 ? ` (+${r.stoppedBy.length - 1})` : ''}`;
}

export function evidenceSummary(r: ScenarioResult): string {
  const e = r.evidence;
  if (e === undefined) return '';
  const parts = [`collector ${e.collector.connections} conn ${e.collector.bytes} B${e.collector.canaries.length > 0 ? ` CANARY ${e.collector.canaries.join('+')}` : ''}`];
  if (e.allowed.canaries.length > 0) parts.push(`allowed got CANARY ${e.allowed.canaries.join('+')}`);
  if (e.dnsQueries > 0) parts.push(`dns ${e.dnsQueries} q${e.dnsCanaries.length > 0 ? ` CANARY ${e.dnsCanaries.join('+')}` : ''}`);
  if (e.metadataContacts > 0) parts.push(`metadata ${e.metadataContacts} conn`);
  if (e.internalContacts > 0) parts.push(`internal ${e.internalContacts} conn`);
  if (e.mcp.calls.length > 0 || e.mcp.canaries.length > 0) parts.push(`mcp server ${e.mcp.calls.length} call(s)${e.mcp.canaries.length > 0 ? ` CANARY ${e.mcp.canaries.join('+')}` : ''}`);
  if (e.approved.length > 0) parts.push(`person approved ${e.approved.length}`);
  if (e.outputCanaries.length > 0) parts.push(`agent read ${e.outputCanaries.join('+')}`);
  return parts.join(', ');
}

/** The srt cell: its outcome, n/a where it does not apply, - where it was not measured. */
export function srtCell(r: ScenarioResult): string {
  if (r.srt === undefined) return '-';
  return r.srt.outcome === 'not-applicable' ? 'n/a' : MARK[r.srt.outcome];
}

function table(rows: readonly ScenarioResult[], full: boolean): string[] {
  const cols = process.stdout.columns ?? 160;
  const stopW = full ? 400 : Math.max(30, Math.min(90, cols - 28 - 12 - 10 - 10 - 40 - 10));
  const lines = [`${'scenario'.padEnd(28)}  ${'class'.padEnd(12)}  ${'cordon'.padEnd(10)}  ${'srt'.padEnd(10)}  ${'stopped by (boundary: rule)'.padEnd(stopW)}  evidence`];
  for (const r of rows) lines.push(`${cell(r.id, 28)}  ${cell(r.class, 12)}  ${cell(MARK[r.outcome], 10)}  ${cell(srtCell(r), 10)}  ${cell(stopSummary(r), stopW)}  ${sanitizeForDisplay(evidenceSummary(r))}`);
  return lines;
}

export function srtSummary(t: SrtTotals, report: LabReport): string {
  if (!t.measured) return report.srtNote ?? '';
  return `srt side by side: ${t.contained}/${t.attacks} attacks contained, ${t.breached} breached, ${t.notApplicable} n/a (MCP, approvals), ${t.benignOk}/${t.benign} benign tasks succeeded${t.errors > 0 ? `, ${t.errors} errors` : ''}; srt pass ${((report.srtWallMs ?? 0) / 1000).toFixed(1)} s (not in the lab's wall time)`;
}

export function renderText(report: LabReport, full = false): string {
  const out: string[] = [`cordon lab — agent: ${report.agentNote}`, ''];
  const applicable = report.results.filter((r) => r.outcome !== 'not-applicable');
  const attacks = applicable.filter((r) => r.kind === 'attack');
  const benign = applicable.filter((r) => r.kind === 'benign');
  if (attacks.length > 0) out.push('Attacks', ...table(attacks, full), '');
  if (benign.length > 0) out.push('Benign tasks', ...table(benign, full), '');
  const na = report.results.filter((r) => r.outcome === 'not-applicable');
  if (na.length > 0) {
    out.push(`Not applicable yet (${na.length}; not counted as contained):`);
    for (const r of na) out.push(`  ${r.id} (${r.class}): ${sanitizeForDisplay(r.detail.replace(/^not applicable yet: /, ''))}`);
    out.push('');
  }
  const problems = applicable.filter((r) => r.outcome === 'breached' || r.outcome === 'failed' || r.outcome === 'error');
  for (const r of problems) {
    out.push(`${MARK[r.outcome]} ${r.id}: ${sanitizeForDisplay(r.detail)}`);
    if (r.evidence !== undefined) out.push(...visibleLines(r.evidence.outputTail).slice(-12).map((l) => `    | ${l}`));
  }
  const st = srtTotals(report.results);
  if (st.measured) {
    const breached = report.results.filter((r) => r.kind === 'attack' && r.srt?.outcome === 'breached');
    if (breached.length > 0) out.push(`Breached under srt (${breached.length}):`, ...breached.map((r) => `  ${r.id}: ${sanitizeForDisplay(r.srt?.detail ?? '')}`), '');
    if (report.srtNote !== undefined) out.push(report.srtNote);
  }
  out.push(srtSummary(st, report));
  const t = totals(report.results);
  out.push(`${t.contained}/${t.attacks} attacks contained, ${t.benignOk}/${t.benign} benign tasks succeeded, ${t.notApplicable} not applicable yet; wall time ${(report.wallMs / 1000).toFixed(1)} s`);
  return `${out.join('\n')}\n`;
}
