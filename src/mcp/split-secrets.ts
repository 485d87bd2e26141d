/**
 * Secrets split over several argument fields, beyond the DLP engine's own
 * joins (`scanJsonValue` joins each value with the next one and the next two,
 * in order). An agent can also put a harmless field between the pieces,
 * cut a token in four or more, or give the pieces in another order
 * (`{ "suffix": ..., "prefix": ... }`). Pieces of a token have no
 * whitespace, so only such leaves are candidates ("fragments": 4 to 64
 * characters, no whitespace); every ordered pair of fragments is joined, and
 * each run of 4 to 6 fragments in order. Bounded: the first 16 fragments
 * (240 pairs at most), one line per join. As in the engine's joins, only
 * provider formats count (specificity 2: `AKIA...`, `ghp_...`, not a generic
 * random-looking value), so joining unrelated fields finds nothing on
 * ordinary calls. A call with fewer than two fragments costs one walk of its
 * leaves.
 */
import { specificity } from '../dlp/engine.js';
import type { DlpScanner } from '../dlp/scanner.js';
import type { Field } from '../dlp/structured.js';

export interface SplitFinding {
  readonly detector: string;
  /** The fields whose values were joined. */
  readonly fields: readonly string[];
  readonly sample: string;
}

const MIN_PIECE = 4;
const MAX_PIECE = 64;
const MAX_FRAGMENTS = 16;
const MIN_RUN = 4;
const MAX_RUN = 6;

const isFragment = (v: string): boolean => v.length >= MIN_PIECE && v.length <= MAX_PIECE && !/\s/.test(v);

/** Provider-format secrets found only when fragments are joined; findings with the sample of one in `known` (already reported) are skipped. */
export function findSplitSecrets(scanner: DlpScanner, leaves: readonly Field[], known: readonly { readonly sample: string }[] = []): SplitFinding[] {
  const frags: Field[] = [];
  for (const l of leaves) {
    if (isFragment(l.value)) frags.push(l);
    if (frags.length === MAX_FRAGMENTS) break;
  }
  if (frags.length < 2) return [];
  const lines: string[] = [];
  const sources: (readonly Field[])[] = [];
  for (let i = 0; i < frags.length; i++) {
    for (let j = 0; j < frags.length; j++) {
      if (i === j) continue;
      const a = frags[i] as Field;
      const b = frags[j] as Field;
      lines.push(a.value + b.value);
      sources.push([a, b]);
    }
  }
  for (let n = MIN_RUN; n <= MAX_RUN; n++) {
    for (let i = 0; i + n <= frags.length; i++) {
      const run = frags.slice(i, i + n);
      lines.push(run.map((f) => f.value).join(''));
      sources.push(run);
    }
  }
  const starts: number[] = [];
  let offset = 0;
  for (const l of lines) {
    starts.push(offset);
    offset += l.length + 1;
  }
  const out: SplitFinding[] = [];
  const seen = new Set(known.map((k) => k.sample));
  for (const f of scanner.scanText(lines.join('\n'), '')) {
    if (specificity(f.detector) < 2 || seen.has(f.sample)) continue;
    seen.add(f.sample);
    let k = starts.length - 1;
    while (k > 0 && (starts[k] ?? 0) > f.location.offset) k--;
    out.push({ detector: f.detector, fields: (sources[k] ?? []).map((x) => x.name), sample: f.sample });
  }
  return out;
}
