/**
 * One `tools/list` result through every check: shape, injection scan of each
 * definition, cross-server collisions and references, then pins. Returns the
 * tools the agent may see (possibly redacted) and one verdict per tool.
 */
import { describeFindings, type InjectionFinding, type InjectionScanner } from './injection.js';
import type { InjectionAction } from './inbound.js';
import { isObject, type JsonObject } from './jsonrpc.js';
import { checkTools, type FirstUse, type ToolVerdict } from './pin-check.js';
import type { PinFile } from './pin-store.js';
import { redactValue } from './redact.js';
import { crossReference, type ShadowRegistry } from './shadowing.js';

export interface ToolsListInput {
  readonly server: string;
  readonly result: unknown;
  readonly record: PinFile;
  readonly fresh: boolean;
  readonly firstUse: FirstUse;
  readonly scanner: InjectionScanner;
  readonly action: InjectionAction;
  readonly shadow: ShadowRegistry | null;
  /** Tool names of other servers (from the registry and other pin records). */
  readonly otherTools: ReadonlyMap<string, string>;
  readonly maxTools: number;
  readonly now: string;
}

export interface ToolsListOutput {
  /** Null when the result is not a tools list at all (then nothing is shown). */
  readonly tools: JsonObject[] | null;
  readonly verdicts: readonly ToolVerdict[];
  /** Scanner findings per tool (also for tools shown under `warn` or `redact`). */
  readonly findings: ReadonlyMap<string, readonly InjectionFinding[]>;
  /** Definitions dropped for their shape (no name, duplicates, over the limit). */
  readonly malformed: number;
  readonly record: PinFile;
  readonly dirty: boolean;
  /** True when the list is exactly what the server sent (forward its bytes). */
  readonly unchanged: boolean;
}

const TOOL_NAME = /^[A-Za-z0-9_.\-/]{1,128}$/;

export function processToolsList(input: ToolsListInput): ToolsListOutput {
  const { result } = input;
  if (!isObject(result) || !Array.isArray(result['tools'])) {
    return { tools: null, verdicts: [], findings: new Map(), malformed: 0, record: input.record, dirty: false, unchanged: false };
  }
  const defs: { name: string; definition: JsonObject }[] = [];
  const seen = new Set<string>();
  let malformed = 0;
  for (const t of result['tools'] as unknown[]) {
    const name = isObject(t) ? t['name'] : undefined;
    if (!isObject(t) || typeof name !== 'string' || !TOOL_NAME.test(name) || seen.has(name) || defs.length >= input.maxTools) {
      malformed++;
      continue;
    }
    seen.add(name);
    defs.push({ name, definition: t });
  }
  const refused = input.shadow?.claim(input.server, defs.map((d) => d.name)) ?? new Map<string, string>();
  const flagged = new Map<string, string>(refused);
  const findings = new Map<string, readonly InjectionFinding[]>();
  const shown = new Map<string, JsonObject>();
  for (const { name, definition } of defs) {
    const report = input.scanner.scanValue(definition);
    const ref = crossReference(definition, name, input.otherTools);
    const all: InjectionFinding[] = [...report.findings];
    if (ref !== null) {
      all.push({ rule: 'shadowing', severity: 'medium', where: 'description', start: 0, end: 0, sample: ref, explain: `names ${ref}, a tool of another server` });
    }
    if (all.length > 0) findings.set(name, all);
    // Naming another server's tool is enough: that is how a server rewrites the use of a trusted one.
    const isFlagged = report.flagged || ref !== null;
    let visible: JsonObject = definition;
    if (isFlagged && !flagged.has(name)) {
      if (input.action === 'block' || report.truncated || (ref !== null && input.action === 'redact')) {
        flagged.set(name, `the definition of ${name} tries to instruct the agent: ${describeFindings({ ...report, findings: all })}`);
      } else if (input.action === 'redact') {
        const r = redactValue(definition, report.findings);
        if (isObject(r)) visible = r;
      }
    }
    shown.set(name, visible);
  }
  const checked = checkTools({ record: input.record, fresh: input.fresh, tools: defs, firstUse: input.firstUse, flagged, now: input.now });
  const tools: JsonObject[] = [];
  for (const v of checked.verdicts) {
    const def = shown.get(v.name);
    if (v.visible && def !== undefined) tools.push(def);
  }
  const unchanged = malformed === 0 && tools.length === defs.length && tools.every((t, i) => t === defs[i]?.definition);
  return { tools, verdicts: checked.verdicts, findings, malformed, record: checked.record, dirty: checked.dirty, unchanged };
}
