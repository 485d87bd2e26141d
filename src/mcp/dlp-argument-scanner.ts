/**
 * The DLP engine as an MCP argument scanner: credentials and the user's known
 * secrets (fingerprints only) in `tools/call` arguments refuse the call.
 * Besides the engine's own scan of the arguments (each leaf with its name,
 * neighbours joined), two argument-shaped checks run on the same leaves:
 * secrets split over non-adjacent or reordered fields (`split-secrets.ts`)
 * and environment dumps (`env-dump.ts`: `NAME=value` lines, and objects of
 * `NAME` keys in the arguments or in a JSON text).
 */
import { DlpScanner } from '../dlp/scanner.js';
import { jsonLeaves, scanFields } from '../dlp/structured.js';
import type { FingerprintMatcher } from '../dlp/fingerprint.js';
import type { ArgumentFinding, ArgumentScanner } from './argument-scanner.js';
import { findEnvDump, findEnvJson, findEnvObject } from './env-dump.js';
import { findSplitSecrets } from './split-secrets.js';

export function dlpArgumentScanner(known?: FingerprintMatcher): ArgumentScanner {
  const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true, ...(known === undefined ? {} : { known }) });
  return {
    name: 'dlp',
    scan(args) {
      const leaves = jsonLeaves(args ?? {});
      const out: ArgumentFinding[] = scanFields(scanner, leaves, (f) => `args.${f.name}`).map((f) => ({ detector: f.detector, where: f.location.where, sample: f.sample }));
      for (const f of findSplitSecrets(scanner, leaves, out)) {
        out.push({ detector: f.detector, where: `split(${f.fields.map((n) => `args.${n}`).join(',')})`.slice(0, 200), sample: f.sample });
      }
      for (const l of leaves) for (const f of [...findEnvDump(l.value), ...findEnvJson(l.value)]) out.push({ detector: 'env-dump-secret', where: `args.${l.name}`, sample: f.sample });
      for (const f of findEnvObject(args)) out.push({ detector: 'env-dump-secret', where: 'args', sample: f.sample });
      return out;
    },
  };
}
