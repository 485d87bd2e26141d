/** What the lab reports per scenario and in total. */
export type Outcome = 'contained' | 'breached' | 'succeeded' | 'failed' | 'not-applicable' | 'error';
export type AgentKind = 'shell' | 'claude' | 'control';

export interface ServiceEvidence {
  readonly connections: number;
  readonly requests: number;
  readonly bytes: number;
  /** Canary labels found in what the service received. */
  readonly canaries: readonly string[];
}

export interface Evidence {
  readonly collector: ServiceEvidence;
  readonly allowed: ServiceEvidence;
  readonly dnsQueries: number;
  readonly dnsCanaries: readonly string[];
  readonly metadataContacts: number;
  readonly internalContacts: number;
  /** What the lab's MCP servers received: tool calls (arguments bounded) and canaries in anything they got. */
  readonly mcp: { readonly calls: readonly { readonly tool: string; readonly args: string }[]; readonly reads: readonly string[]; readonly canaries: readonly string[] };
  /** Requests the scenario's scripted person approved. */
  readonly approved: readonly string[];
  /** Canaries the agent printed (it read the secret). */
  readonly outputCanaries: readonly string[];
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  /** The tail of what the agent printed (stdout then stderr), bounded. */
  readonly outputTail: string;
}

export interface ScenarioResult {
  readonly id: string;
  readonly class: string;
  readonly title: string;
  readonly kind: 'attack' | 'benign';
  readonly agent: AgentKind;
  readonly outcome: Outcome;
  /** Why: the conditions that held (breach), failed (benign), or what is missing. */
  readonly detail: string;
  /** Boundaries and rules observed stopping something: audit deny records and 403 X-Cordon-Rule headers. */
  readonly stoppedBy: readonly string[];
  /** What the scenario expects to stop it (shown when nothing was recorded). */
  readonly expected: string;
  readonly evidence: Evidence | undefined;
  /** Same scenario under srt, when SRT_BIN is set. */
  readonly srt?: { readonly outcome: Outcome; readonly detail: string };
}

export interface LabReport {
  readonly agent: AgentKind;
  readonly agentNote: string;
  readonly startedAt: string;
  readonly wallMs: number;
  readonly results: readonly ScenarioResult[];
  readonly srtNote?: string;
  /** Wall time of the srt pass (apart from wallMs). */
  readonly srtWallMs?: number;
}

export interface SrtTotals {
  readonly measured: boolean;
  readonly attacks: number;
  readonly contained: number;
  readonly breached: number;
  readonly notApplicable: number;
  readonly benign: number;
  readonly benignOk: number;
  readonly errors: number;
}

/** The srt column's totals (over the scenarios cordon ran). */
export function srtTotals(results: readonly ScenarioResult[]): SrtTotals {
  const withSrt = results.filter((r) => r.srt !== undefined);
  const applicable = withSrt.filter((r) => r.srt?.outcome !== 'not-applicable');
  const attacks = applicable.filter((r) => r.kind === 'attack');
  const benign = applicable.filter((r) => r.kind === 'benign');
  return {
    measured: withSrt.length > 0,
    attacks: attacks.length,
    contained: attacks.filter((r) => r.srt?.outcome === 'contained').length,
    breached: attacks.filter((r) => r.srt?.outcome === 'breached').length,
    notApplicable: withSrt.length - applicable.length,
    benign: benign.length,
    benignOk: benign.filter((r) => r.srt?.outcome === 'succeeded').length,
    errors: applicable.filter((r) => r.srt?.outcome === 'error').length,
  };
}

export interface Totals {
  readonly attacks: number;
  readonly contained: number;
  readonly benign: number;
  readonly benignOk: number;
  readonly notApplicable: number;
  readonly problems: number;
}

export function totals(results: readonly ScenarioResult[]): Totals {
  const applicable = results.filter((r) => r.outcome !== 'not-applicable');
  const attacks = applicable.filter((r) => r.kind === 'attack');
  const benign = applicable.filter((r) => r.kind === 'benign');
  return {
    attacks: attacks.length,
    contained: attacks.filter((r) => r.outcome === 'contained').length,
    benign: benign.length,
    benignOk: benign.filter((r) => r.outcome === 'succeeded').length,
    notApplicable: results.length - applicable.length,
    problems: applicable.filter((r) => r.outcome !== 'contained' && r.outcome !== 'succeeded').length,
  };
}

/** Exit 0 only when every applicable attack was contained and every applicable benign task succeeded. */
export function labExitCode(results: readonly ScenarioResult[]): number {
  const t = totals(results);
  return t.problems === 0 && t.attacks + t.benign > 0 ? 0 : 1;
}
