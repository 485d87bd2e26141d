/**
 * The gateway's view of one server's tools: the pin record, which tools the
 * agent may call (exactly those last shown to it), and whether a re-check is
 * under way after `notifications/tools/list_changed`. A call to a tool that
 * is not currently shown is refused.
 */
import { isCordonError } from '../errors.js';
import { mcpEvent, toFindings, type AuditSink } from './audit.js';
import type { InjectionAction } from './inbound.js';
import type { InjectionScanner } from './injection.js';
import { checkManifest, type FirstUse } from './pin-check.js';
import { emptyPinFile, type Launch, type PinFile, type PinStore } from './pin-store.js';
import type { ShadowRegistry } from './shadowing.js';
import type { Manifest } from './tool-hash.js';
import { processToolsList, type ToolsListOutput } from './tools-list.js';

export interface ToolGateOptions {
  readonly server: string;
  readonly launch: Launch;
  readonly pins: PinStore | null;
  readonly firstUse: FirstUse;
  readonly scanner: InjectionScanner;
  readonly action: InjectionAction;
  readonly shadow: ShadowRegistry | null;
  readonly maxTools: number;
  readonly audit: AuditSink;
  readonly log: (line: string) => void;
  readonly now: () => Date;
}

export class ToolGate {
  readonly #o: ToolGateOptions;
  #record: PinFile;
  #fresh: boolean;
  /** Set when the pin store cannot be read or written: every tool is then held back. */
  #broken: string | null = null;
  /** Tools shown to the agent, with the hash of the definition shown. */
  readonly #shown = new Map<string, string>();
  #listed = false;
  refreshing = false;

  constructor(o: ToolGateOptions) {
    this.#o = o;
    this.#record = emptyPinFile(o.server, o.launch);
    this.#fresh = true;
    if (o.pins !== null) {
      try {
        const stored = o.pins.load(o.server, o.launch);
        if (stored !== null) {
          this.#record = stored;
          this.#fresh = false;
        }
      } catch (e) {
        this.#broken = isCordonError(e) ? e.message : String(e);
        o.log(`cordon mcp: ${this.#broken}; every tool of ${o.server} is held back`);
      }
    }
  }

  /** Why a call to `name` must be refused, or null when the tool is shown and approved. */
  refusal(name: string): string | null {
    if (this.refreshing) return `MCP server ${this.#o.server} changed its tool list and cordon is checking the new list; retry the call in a moment`;
    if (this.#shown.has(name)) return null;
    if (this.#broken !== null) return `the tool pins of ${this.#o.server} cannot be used (${this.#broken})`;
    if (!this.#listed) return `cordon has not seen the tool list of ${this.#o.server} yet; list the tools first`;
    const pending = this.#record.pending[name];
    if (pending !== undefined) return `${pending.reason}; run \`cordon mcp pins approve ${this.#o.server} ${name}\` after reviewing \`cordon mcp pins list\``;
    return `${name} is not a tool that ${this.#o.server} currently offers through cordon`;
  }

  /** Runs one tools/list result through every check; `full` when it was the complete list (no pagination). */
  observe(result: unknown, full: boolean): ToolsListOutput {
    const o = this.#o;
    const now = o.now().toISOString();
    const out = processToolsList({
      server: o.server, result, record: this.#record, fresh: this.#fresh, firstUse: o.firstUse, scanner: o.scanner, action: o.action,
      shadow: o.shadow, otherTools: this.#otherTools(), maxTools: o.maxTools, now,
    });
    if (out.tools === null) {
      o.audit(mcpEvent(`mcp__${o.server} tools/list`, 'deny', 'gateway protocol', 'the server sent a tools/list result that is not a list of tools; no tool is shown'));
      if (full) this.#shown.clear();
      return out;
    }
    this.#record = out.record;
    if (out.dirty && this.#broken === null) this.#save();
    this.#fresh = false;
    this.#listed = true;
    if (full) this.#shown.clear();
    for (const v of out.verdicts) {
      const visible = v.visible && this.#broken === null;
      if (visible) this.#shown.set(v.name, v.hash);
      else this.#shown.delete(v.name);
      const findings = toFindings(out.findings.get(v.name) ?? []);
      const subject = `mcp__${o.server}__${v.name}`;
      if (!visible) {
        o.audit(mcpEvent(subject, 'deny', `pin ${v.status}`, `held back from the agent: ${this.#broken ?? v.reason}`, { findings }));
      } else if (v.status === 'first-use') {
        o.audit(mcpEvent(subject, 'allow', 'pin first-use', v.reason, { findings }));
      } else if (findings.length > 0) {
        o.audit(mcpEvent(subject, 'deny', `injection ${o.action}`, `the tool definition was ${o.action === 'redact' ? 'redacted' : 'shown with a warning'}`, { findings, reportOnly: o.action === 'warn' }));
      }
    }
    if (out.malformed > 0) o.audit(mcpEvent(`mcp__${o.server} tools/list`, 'deny', 'gateway protocol', `${out.malformed} tool definitions without a valid, unique name (or over the limit of ${o.maxTools}) were dropped`));
    return out;
  }

  /** Records the server manifest from `initialize`; a change is recorded and left for approval. */
  manifest(m: Manifest): void {
    const o = this.#o;
    const v = checkManifest(this.#record, m, o.now().toISOString());
    this.#record = v.record;
    if (v.dirty && this.#broken === null) this.#save();
    if (v.status === 'changed') {
      o.audit(mcpEvent(`mcp__${o.server} manifest`, 'deny', 'pin manifest', `the server's manifest (info, capabilities or instructions) changed since it was pinned; review it with \`cordon mcp pins list\` and approve it`, { reportOnly: true }));
    } else if (v.status === 'first-use') {
      o.audit(mcpEvent(`mcp__${o.server} manifest`, 'allow', 'pin first-use', 'first use of this server: its manifest was pinned as seen'));
    }
  }

  /** Whether a tool list was ever seen. */
  get listed(): boolean {
    return this.#listed;
  }

  /** Names of the tools currently shown to the agent. */
  shownNames(): string[] {
    return [...this.#shown.keys()];
  }

  forgetShown(): void {
    this.#shown.clear();
  }

  #otherTools(): Map<string, string> {
    const o = this.#o;
    const others = o.shadow?.othersOf(o.server) ?? new Map<string, string>();
    if (o.pins !== null) {
      for (const r of o.pins.list()) {
        if (r.server === o.server) continue;
        for (const name of Object.keys(r.tools)) if (!others.has(name)) others.set(name, r.server);
      }
    }
    return others;
  }

  #save(): void {
    if (this.#o.pins === null) return;
    try {
      this.#o.pins.save(this.#record);
    } catch (e) {
      this.#broken = isCordonError(e) ? e.message : String(e);
      this.#shown.clear();
      this.#o.log(`cordon mcp: ${this.#broken}; every tool of ${this.#o.server} is held back`);
    }
  }
}

