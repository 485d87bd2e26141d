/** `--html FILE`: one self-contained page (inline CSS, no scripts, no external resources). */
import { sanitizeForDisplay } from '../audit/redact.js';
import { srtTotals, totals, type LabReport, type ScenarioResult } from './result.js';
import { evidenceSummary, srtCell, srtSummary, visibleLines } from './report-text.js';

/** HTML-escaped, with control, bidi and zero-width characters made visible (sanitizeForDisplay). */
function esc(s: string): string {
  return sanitizeForDisplay(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function row(r: ScenarioResult): string {
  const stops = r.stoppedBy.length > 0 ? r.stoppedBy.map((x) => `<div>${esc(x)}</div>`).join('') : `<div class="muted">(by design) ${esc(r.expected)}</div>`;
  const tail = r.evidence === undefined ? '' : `<details><summary>agent output</summary><pre>${visibleLines(r.evidence.outputTail).map((l) => esc(l)).join('\n')}</pre></details>`;
  return `<tr class="${r.outcome}"><td><b>${esc(r.id)}</b><div class="muted">${esc(r.title)}</div></td><td>${esc(r.class)}</td><td class="o">${esc(r.outcome)}</td><td title="${esc(r.srt?.detail ?? '')}">${esc(srtCell(r))}</td><td>${esc(r.detail)}</td><td>${stops}</td><td>${esc(evidenceSummary(r))}${tail}</td></tr>`;
}

export function renderHtml(report: LabReport): string {
  const t = totals(report.results);
  const head = '<tr><th>scenario</th><th>class</th><th>cordon</th><th>srt</th><th>detail</th><th>stopped by</th><th>evidence</th></tr>';
  const section = (title: string, rows: readonly ScenarioResult[]): string => rows.length === 0 ? '' : `<h2>${esc(title)} (${rows.length})</h2><table>${head}${rows.map(row).join('')}</table>`;
  const app = report.results.filter((r) => r.outcome !== 'not-applicable');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><title>cordon lab report</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}
.muted{color:#777;font-size:12px}.contained .o,.succeeded .o{color:#067d17}.breached .o,.failed .o,.error .o{color:#b00020;font-weight:bold}.not-applicable .o{color:#8a6d00}pre{white-space:pre-wrap;max-width:60em}</style></head><body>
<h1>cordon lab</h1><p>Agent: ${esc(report.agentNote)}<br>Started ${esc(report.startedAt)}, wall time ${(report.wallMs / 1000).toFixed(1)} s</p>
<p><b>${t.contained}/${t.attacks} attacks contained, ${t.benignOk}/${t.benign} benign tasks succeeded</b>, ${t.notApplicable} not applicable yet (not counted as contained).</p>
<p>${esc(srtSummary(srtTotals(report.results), report))}</p>
${section('Attacks', app.filter((r) => r.kind === 'attack'))}${section('Benign tasks', app.filter((r) => r.kind === 'benign'))}${section('Not applicable yet', report.results.filter((r) => r.outcome === 'not-applicable'))}
</body></html>
`;
}
