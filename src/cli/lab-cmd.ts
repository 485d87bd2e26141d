/**
 * `cordon lab [--quick] [--json] [--html FILE] [--agent claude|shell] [--filter ID|CLASS]...`:
 * wiring only. Exit 0 only if every applicable attack was contained and every
 * applicable benign task succeeded; 1 otherwise; 2 when the lab could not run.
 */
import { writeFileSync } from 'node:fs';
import { launchLab } from '../lab/launch.js';
import { renderHtml } from '../lab/report-html.js';
import { renderText } from '../lab/report-text.js';
import { labExitCode } from '../lab/result.js';

export interface LabCommandOptions {
  readonly quick?: boolean;
  readonly json?: boolean;
  readonly html?: string;
  readonly agent?: string;
  readonly filter?: readonly string[];
  /** Keep the lab directory (workspaces, audit logs) for inspection. */
  readonly keep?: boolean;
}

export async function labCommand(opts: LabCommandOptions = {}): Promise<number> {
  const agent = opts.agent ?? 'shell';
  if (agent !== 'shell' && agent !== 'claude') {
    process.stderr.write(`cordon: unknown --agent '${agent}'; use shell or claude\n`);
    return 2;
  }
  let report;
  try {
    report = await launchLab({ agent, quick: opts.quick === true, filter: opts.filter ?? [], keep: opts.keep === true });
  } catch (e) {
    process.stderr.write(`cordon: lab: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  if (opts.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderText(report));
  if (opts.html !== undefined) {
    writeFileSync(opts.html, renderHtml(report));
    process.stderr.write(`cordon: lab report written to ${opts.html}\n`);
  }
  return labExitCode(report.results);
}
