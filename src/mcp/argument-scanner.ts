/**
 * Outbound argument scanning. The DLP engine (src/dlp) plugs in here by
 * implementing `ArgumentScanner`; the gateway calls every scanner on the
 * arguments of each allowed call and refuses the call on any finding (or on
 * a scanner error: fail closed). Samples must already be redacted or short;
 * the audit writer redacts them again.
 */
import type { InjectionScanner } from './injection.js';

export interface ArgumentFinding {
  /** Detector name, e.g. `aws-access-key-id` or `injection:ignore-instructions`. */
  readonly detector: string;
  /** JSON path inside the arguments, e.g. `args.body`. */
  readonly where: string;
  readonly sample: string;
}

export interface CallInfo {
  readonly server: string;
  /** Tool name, or `resources/read` / `prompts/get`. */
  readonly tool: string;
}

export interface ArgumentScanner {
  readonly name: string;
  scan(args: unknown, call: CallInfo): readonly ArgumentFinding[];
}

/** Finds nothing. */
export const NOOP_ARGUMENT_SCANNER: ArgumentScanner = Object.freeze({
  name: 'none',
  scan: (): readonly ArgumentFinding[] => [],
});

/**
 * Flags arguments that carry a prompt injection (an agent writing "ignore
 * previous instructions…" into a file or message spreads the attack).
 * Only flagged texts count, so ordinary prose passes.
 */
export function injectionArgumentScanner(scanner: InjectionScanner): ArgumentScanner {
  return {
    name: 'injection',
    scan(args) {
      const report = scanner.scanValue(args, 'args');
      if (!report.flagged) return [];
      return report.findings.map((f) => ({ detector: `injection:${f.rule}`, where: f.where, sample: f.sample }));
    },
  };
}
