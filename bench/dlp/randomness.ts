/**
 * (d) Randomness for values next to key-like names: Shannon entropy vs
 * characters per BPE token, side by side on benign values found on this
 * machine and on generated true secrets. Two comparisons:
 *  - the measure alone: entropy at the threshold that gives the same overall
 *    recall as the BPE threshold (so only false positives differ);
 *  - the whole `random-value` check (placeholders, code, phrases, padded blobs,
 *    identifiers, UUIDs and base64 of text are rejected first) with the entropy
 *    judge that shipped before (entropy + class switches + word coverage) and
 *    with the BPE judge: values reported (any confidence) and values that block
 *    (not weak: the medium confidence the proxy acts on).
 * Prints the rank table's load time and memory (measured in a fresh process).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { charsPerToken } from '../../src/dlp/bpe.js';
import { randomValue } from '../../src/dlp/checks.js';
import { BPE_RANDOM_MAX, judgeByTokens, judgeRandomness, shannonEntropy } from '../../src/dlp/randomness.js';
import { benignSets, secretSets, type ValueSet } from './randomness-corpus.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface RandomnessSummary {
  /** False positives over all benign values, whole check: entropy judge, BPE judge. */
  readonly fpEntropy: number;
  readonly fpBpe: number;
  readonly recallEntropy: number;
  readonly recallBpe: number;
  /** The same, counting only findings that block (not weak). */
  readonly blockFpEntropy: number;
  readonly blockFpBpe: number;
  readonly blockRecallEntropy: number;
  readonly blockRecallBpe: number;
  readonly benign: number;
  readonly secrets: number;
}

const pct = (a: number, b: number): string => `${((100 * a) / Math.max(1, b)).toFixed(1)}%`;

function count(values: readonly string[], f: (v: string) => boolean): number {
  let n = 0;
  for (const v of values) if (f(v)) n++;
  return n;
}

/** Load time and memory of the compact rank table, in a fresh process so nothing else is loaded. */
function tableCost(): string {
  const code = `
    const { charsPerToken } = await import(${JSON.stringify(`${REPO}src/dlp/bpe.ts`)});
    globalThis.gc(); const m0 = process.memoryUsage(); const t = performance.now();
    charsPerToken('Xq9vB2mK7pL4tR8wZ3nC'); const ms = performance.now() - t;
    const peak = process.memoryUsage().rss; globalThis.gc(); const m1 = process.memoryUsage();
    process.stdout.write(JSON.stringify({ ms, heap: m1.heapUsed - m0.heapUsed, rss: m1.rss - m0.rss, peak: peak - m0.rss }));`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, encoding: 'utf8' });
  try {
    const c = JSON.parse(r.stdout) as { ms: number; heap: number; rss: number; peak: number };
    const mb = (n: number): string => (n / 1048576).toFixed(1);
    return `rank table (cl100k_base, printable ASCII tokens) loaded on first use: ${c.ms.toFixed(0)} ms, heap +${mb(c.heap)} MB, RSS +${mb(c.rss)} MB after GC (peak +${mb(c.peak)} MB)`;
  } catch {
    return `rank table cost: not measured (${(r.stderr || 'no output').split('\n')[0] ?? ''})`;
  }
}

export function runRandomness(files: readonly string[], fixturesDir: string): RandomnessSummary {
  const benign = benignSets(files, REPO, fixturesDir);
  const secrets = secretSets();
  const allSecrets = secrets.flatMap((s) => s.values);
  const bpeRandom = (v: string): boolean => v.length >= 12 && charsPerToken(v) <= BPE_RANDOM_MAX;
  // The entropy threshold with the same overall recall as the BPE threshold.
  const bpeRecall = count(allSecrets, bpeRandom);
  const entropies = allSecrets.map(shannonEntropy).sort((a, b) => b - a);
  const hMin = entropies[Math.max(0, bpeRecall - 1)] ?? 0;
  const entropyRandom = (v: string): boolean => v.length >= 12 && shannonEntropy(v) >= hMin;
  // The whole check: reported (any confidence, as `cordon scan` prints) and blocking (not weak: medium, as the proxy acts on).
  const checkEntropy = (v: string): boolean => randomValue(v, judgeRandomness).ok;
  const checkBpe = (v: string): boolean => randomValue(v, judgeByTokens).ok;
  const blockEntropy = (v: string): boolean => { const r = randomValue(v, judgeRandomness); return r.ok && r.weak !== true; };
  const blockBpe = (v: string): boolean => { const r = randomValue(v, judgeByTokens); return r.ok && r.weak !== true; };

  process.stdout.write(`\n(d) randomness of values next to key-like names: Shannon entropy vs characters per BPE token\n`);
  process.stdout.write(`    measure alone: entropy >= ${hMin.toFixed(2)} bits/char (same recall) vs chars/token <= ${BPE_RANDOM_MAX}; whole check: entropy judge (entropy, class switches, words) vs BPE judge\n`);
  process.stdout.write(`${''.padEnd(46)} | measure alone    | check, H judge  | check, BPE judge\n`);
  process.stdout.write(`${'values'.padEnd(40)}${'n'.padStart(5)} | ${'entropy'.padStart(8)} ${'BPE'.padStart(7)} | ${'reports'.padStart(7)} ${'blocks'.padStart(7)} | ${'reports'.padStart(7)} ${'blocks'.padStart(7)}\n`);
  const line = (name: string, n: number, r: readonly number[]): void => {
    const cell = (i: number, w: number): string => pct(r[i] ?? 0, n).padStart(w);
    process.stdout.write(`${name.padEnd(40)}${String(n).padStart(5)} | ${cell(0, 8)} ${cell(1, 7)} | ${cell(2, 7)} ${cell(4, 7)} | ${cell(3, 7)} ${cell(5, 7)}\n`);
  };
  const row = (s: ValueSet): number[] => {
    const r = [count(s.values, entropyRandom), count(s.values, bpeRandom), count(s.values, checkEntropy), count(s.values, checkBpe), count(s.values, blockEntropy), count(s.values, blockBpe)];
    line(s.name, s.values.length, r);
    return r;
  };
  process.stdout.write('benign (flagged = false positive)\n');
  const fp = [0, 0, 0, 0, 0, 0];
  let nb = 0;
  for (const s of benign) {
    row(s).forEach((x, i) => { fp[i] = (fp[i] ?? 0) + x; });
    nb += s.values.length;
  }
  line('all benign', nb, fp);
  process.stdout.write('true secrets (flagged = recall)\n');
  const hit = [0, 0, 0, 0, 0, 0];
  for (const s of secrets) row(s).forEach((x, i) => { hit[i] = (hit[i] ?? 0) + x; });
  const ns = allSecrets.length;
  line('all secrets', ns, hit);
  process.stdout.write(`${tableCost()}\n`);
  return { fpEntropy: fp[2] ?? 0, fpBpe: fp[3] ?? 0, recallEntropy: hit[2] ?? 0, recallBpe: hit[3] ?? 0, blockFpEntropy: fp[4] ?? 0, blockFpBpe: fp[5] ?? 0, blockRecallEntropy: hit[4] ?? 0, blockRecallBpe: hit[5] ?? 0, benign: nb, secrets: ns };
}
