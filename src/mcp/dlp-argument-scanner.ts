/**
 * The DLP engine as an MCP argument scanner: credentials and the user's known
 * secrets (fingerprints only) in `tools/call` arguments refuse the call.
 * The engine's structured scan of the arguments (`scanJsonValue`: each leaf
 * with its name, neighbours joined) also runs the checks that began here and
 * now serve every boundary: secrets split over non-adjacent or reordered
 * fields (`src/dlp/split-fields.ts`) and environment dumps
 * (`src/dlp/env-dump.ts`: `NAME=value` lines, and objects of `NAME` keys in
 * the arguments or in a JSON text).
 */
import { DlpScanner } from '../dlp/scanner.js';
import { scanJsonValue } from '../dlp/structured.js';
import type { FingerprintMatcher } from '../dlp/fingerprint.js';
import type { ArgumentScanner } from './argument-scanner.js';

export function dlpArgumentScanner(known?: FingerprintMatcher): ArgumentScanner {
  const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true, ...(known === undefined ? {} : { known }) });
  return {
    name: 'dlp',
    scan(args) {
      return scanJsonValue(scanner, args ?? {}, 'args').map((f) => ({ detector: f.detector, where: f.location.where, sample: f.sample }));
    },
  };
}
