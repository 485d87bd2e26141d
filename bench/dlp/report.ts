/** Printing of the benchmark parts, side by side with the baseline. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cordonRanges, loadFixtures, scoreCase, type FixtureCase } from './fixtures.js';

export const FIXTURES = fileURLToPath(new URL('../../../shared/benchmarks/secretlint-fixtures', import.meta.url));
export const EGRESS = fileURLToPath(new URL('../../../shared/benchmarks/agent-egress-bench', import.meta.url));
const SIDE = fileURLToPath(new URL('./secretlint-side.mjs', import.meta.url));

export interface SecretlintRun {
  readonly version: string;
  readonly ms: number;
  readonly results: { file: string; messages: { range: [number, number] }[] }[];
}

/** Runs secretlint (outside the repository) on jobs; undefined with the reason printed when it is not installed. */
export function runSecretlint(jobs: { file: string; rules?: unknown }[]): SecretlintRun | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'cordon-bench-'));
  const jobFile = path.join(dir, 'jobs.json');
  writeFileSync(jobFile, JSON.stringify(jobs));
  const r = spawnSync(process.execPath, [SIDE, jobFile], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) {
    process.stdout.write(`secretlint: not run (${(r.stderr || 'no output').split('\n')[0] ?? ''}); install it outside the repo: mkdir -p /tmp/secretlint-scratch && cd /tmp/secretlint-scratch && npm init -y && npm install secretlint @secretlint/secretlint-rule-preset-recommend (or set SECRETLINT_DIR)\n`);
    return undefined;
  }
  return JSON.parse(r.stdout) as SecretlintRun;
}

interface Tally { expected: number; found: number; okCases: number; okClean: number; ngCases: number; ngHit: number }
const tally = (): Tally => ({ expected: 0, found: 0, okCases: 0, okClean: 0, ngCases: 0, ngHit: 0 });

function add(t: Tally, c: FixtureCase, found: number, flagged: boolean): void {
  t.expected += c.expected.length;
  t.found += found;
  if (c.positive) {
    t.ngCases++;
    if (flagged) t.ngHit++;
  } else {
    t.okCases++;
    if (!flagged) t.okClean++;
  }
}

const pct = (a: number, b: number): string => (b === 0 ? '   -  ' : `${((100 * a) / b).toFixed(1).padStart(5)}%`);

export interface FixtureSummary { cordon: Tally; secretlint: Tally | undefined }

export function runFixtures(verbose: boolean): FixtureSummary {
  const cases = loadFixtures(FIXTURES);
  const sl = runSecretlint(cases.map((c) => ({ file: c.file, rules: c.rules })));
  const per = new Map<string, { c: Tally; s: Tally }>();
  const allC = tally();
  const allS = tally();
  for (const c of cases) {
    const ours = scoreCase(c, cordonRanges(c));
    const theirsRanges = sl?.results.find((r) => r.file === c.file)?.messages.map((m) => m.range) ?? [];
    const theirs = scoreCase(c, theirsRanges);
    const p = per.get(c.provider) ?? { c: tally(), s: tally() };
    per.set(c.provider, p);
    add(p.c, c, ours.found, ours.flagged);
    add(allC, c, ours.found, ours.flagged);
    add(p.s, c, theirs.found, theirs.flagged);
    add(allS, c, theirs.found, theirs.flagged);
    const miss = ours.found < c.expected.length || (c.positive && !ours.flagged) || (!c.positive && ours.flagged);
    if (verbose && miss) process.stdout.write(`  MISS ${c.provider}/${c.name}: found ${ours.found}/${c.expected.length}, flagged=${ours.flagged}\n`);
  }
  process.stdout.write(`\n(a) secretlint fixtures: ${cases.length} cases, ${allC.expected} expected findings${sl ? `; secretlint ${sl.version}` : ''}\n`);
  process.stdout.write(`${'provider'.padEnd(28)}| cordon recall  ok-clean | secretlint recall  ok-clean\n`);
  for (const [name, p] of [...per.entries()].sort()) {
    process.stdout.write(`${name.padEnd(28)}| ${pct(p.c.found, p.c.expected)} ${String(`${p.c.found}/${p.c.expected}`).padStart(6)} ${pct(p.c.okClean, p.c.okCases)} | ${sl ? `${pct(p.s.found, p.s.expected)} ${String(`${p.s.found}/${p.s.expected}`).padStart(6)} ${pct(p.s.okClean, p.s.okCases)}` : 'n/a'}\n`);
  }
  process.stdout.write(`${'ALL'.padEnd(28)}| ${pct(allC.found, allC.expected)} ${`${allC.found}/${allC.expected}`.padStart(6)} ${pct(allC.okClean, allC.okCases)} | ${sl ? `${pct(allS.found, allS.expected)} ${`${allS.found}/${allS.expected}`.padStart(6)} ${pct(allS.okClean, allS.okCases)}` : 'n/a'}\n`);
  process.stdout.write(`ng cases with at least one finding: cordon ${allC.ngHit}/${allC.ngCases}${sl ? `, secretlint ${allS.ngHit}/${allS.ngCases}` : ''}\n`);
  return { cordon: allC, secretlint: sl ? allS : undefined };
}
