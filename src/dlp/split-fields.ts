/**
 * Secrets split over several fields (tool arguments, JSON and form bodies,
 * query parameters), beyond `scanFields`' adjacent
 * joins (it joins each value with the next one and the next two,
 * in order). An agent can also put a harmless field between the pieces,
 * cut a token in four or more, or give the pieces in another order
 * (`{ "suffix": ..., "prefix": ... }`). Pieces of a token have no
 * whitespace, so only such leaves are candidates ("fragments": 4 to 64
 * characters, no whitespace); every ordered pair of fragments is joined, and
 * each run of 4 to 6 fragments in order. Bounded: the first 16 fragments,
 * one line per join, 4 KiB of joins per call, nearest pieces first (pairs
 * one and two fields apart in both orders, runs of 4, 5 and 6, then pairs
 * further apart), which all fit for ordinary calls of short fields (8
 * fields of 12 characters: about 2 KiB). As in the engine's joins, only
 * provider formats count (specificity 2: `AKIA...`, `ghp_...`, not a generic
 * random-looking value), so joining unrelated fields finds nothing on
 * ordinary calls. A call with fewer than two fragments costs one walk of its
 * leaves.
 */
import { specificity } from './engine.js';
import type { DlpScanner } from './scanner.js';
import type { Field } from './structured.js';
import type { DlpFinding } from './types.js';

export interface SplitFinding {
  readonly detector: string;
  /** The fields whose values were joined. */
  readonly fields: readonly string[];
  readonly sample: string;
  readonly provider: string;
  readonly confidence: DlpFinding['confidence'];
  readonly explain: string;
}

const MIN_PIECE = 4;
const MAX_PIECE = 64;
const MAX_FRAGMENTS = 16;
const MIN_RUN = 4;
const MAX_RUN = 6;
/** Characters of joins scanned per call (their lines included): 16 fragments of 64 characters would make 30 KiB. */
const MAX_JOINED = 4096;

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
  let budget = MAX_JOINED;
  const add = (run: readonly Field[]): boolean => {
    const line = run.map((f) => f.value).join('');
    if (line.length > budget) return false;
    budget -= line.length + 1;
    lines.push(line);
    sources.push(run);
    return true;
  };
  // Nearest pieces first (a gap of one field in either order, then runs of four), so a budget cut drops the far-fetched joins.
  const pairs = (gap: number): boolean => {
    for (let i = 0; i + gap < frags.length; i++) {
      const a = frags[i] as Field;
      const b = frags[i + gap] as Field;
      if (!add([a, b]) || !add([b, a])) return false;
    }
    return true;
  };
  const runs = (n: number): boolean => {
    for (let i = 0; i + n <= frags.length; i++) if (!add(frags.slice(i, i + n))) return false;
    return true;
  };
  let room = pairs(1) && pairs(2) && runs(MIN_RUN);
  for (let n = MIN_RUN + 1; room && n <= MAX_RUN; n++) room = runs(n);
  for (let gap = 3; room && gap < frags.length; gap++) room = pairs(gap);
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
    out.push({ detector: f.detector, fields: (sources[k] ?? []).map((x) => x.name), sample: f.sample, provider: f.provider, confidence: f.confidence, explain: f.explain });
  }
  return out;
}
