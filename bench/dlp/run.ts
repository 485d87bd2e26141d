/**
 * DLP benchmark: `node --import tsx bench/dlp/run.ts`
 *  (a) secretlint's fixtures: recall and clean rate per provider, beside secretlint;
 *  (b) an 8 MiB corpus of node_modules sources with planted secrets: throughput
 *      (single thread, every detector on) beside secretlint, recall, false positives per MiB;
 *  (c) agent-egress-bench DLP categories through the engine;
 *  (d) randomness of values next to key-like names: Shannon entropy vs
 *      characters per BPE token (false positives on benign values, recall);
 * then every figure beside its target from issue 5.
 * secretlint runs from a directory outside the repository (SECRETLINT_DIR,
 * default /tmp/secretlint-scratch); without it its columns say n/a.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DlpScanner } from '../../src/dlp/scanner.js';
import { buildCorpus, corpusFiles } from './corpus.js';
import { runRandomness } from './randomness.js';
import { printEgress, runEgress } from './egress.js';
import { EGRESS, FIXTURES, runFixtures, runSecretlint } from './report.js';
import { confidenceRank } from '../../src/dlp/types.js';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

interface CorpusFigures {
  readonly rate: number;
  readonly rateDecode: number;
  readonly slRate: number;
  readonly recall: string;
  readonly recallOk: boolean;
  readonly fpPerMiB: number;
}

function corpusPart(): CorpusFigures {
  const c = buildCorpus(NODE_MODULES);
  const mib = c.text.length / 1048576;
  process.stdout.write(`\n(b) corpus: ${mib.toFixed(2)} MiB of node_modules sources, ${c.planted.length} planted secrets (${new Set(c.planted.map((p) => p.kind)).size} kinds)\n`);
  const rows: [string, number, string, string][] = [];
  let cordonRate = 0;
  let decodeRate = 0;
  let recall = '';
  let recallOk = false;
  let fpPerMiB = 0;
  for (const decode of [false, true]) {
    const scanner = new DlpScanner({ decode });
    let best = Number.POSITIVE_INFINITY;
    let findings = scanner.scanBytes(c.text, 'corpus');
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      findings = scanner.scanBytes(c.text, 'corpus');
      best = Math.min(best, performance.now() - t);
    }
    const overlaps = (f: (typeof findings)[number], p: (typeof c.planted)[number]): boolean => f.location.offset < p.end && f.location.offset + f.location.length > p.start;
    const hit = c.planted.filter((p) => findings.some((f) => overlaps(f, p))).length;
    const fps = findings.filter((f) => !c.planted.some((p) => overlaps(f, p)));
    const fpMed = fps.filter((f) => confidenceRank(f.confidence) >= 1).length;
    const rate = mib / (best / 1000);
    if (decode) decodeRate = rate;
    else {
      cordonRate = rate;
      recall = `${hit}/${c.planted.length}`;
      recallOk = hit === c.planted.length;
      fpPerMiB = fps.length / mib;
    }
    rows.push([`cordon${decode ? ' + decoding layers' : ' (cordon scan default)'}`, rate, `${hit}/${c.planted.length}`, `${(fps.length / mib).toFixed(2)} all, ${(fpMed / mib).toFixed(2)} >= medium`]);
  }
  // secretlint on the same bytes, as 8 files of 1 MiB.
  const dir = mkdtempSync(path.join(tmpdir(), 'cordon-corpus-'));
  const files: string[] = [];
  for (let i = 0; i * 1048576 < c.text.length; i++) {
    const f = path.join(dir, `part${i}.js`);
    writeFileSync(f, c.text.subarray(i * 1048576, (i + 1) * 1048576));
    files.push(f);
  }
  const sl = runSecretlint(files.map((file) => ({ file })));
  let slRate = 0;
  if (sl !== undefined) {
    slRate = mib / (sl.ms / 1000);
    let hit = 0;
    for (const p of c.planted) {
      const part = Math.floor(p.start / 1048576);
      const rel = p.start - part * 1048576;
      const r = sl.results.find((x) => x.file === files[part]);
      if (r?.messages.some((m) => m.range[0] <= rel + (p.end - p.start) && m.range[1] >= rel)) hit++;
    }
    const total = sl.results.reduce((n, r) => n + r.messages.length, 0);
    rows.push([`secretlint ${sl.version} (preset-recommend)`, slRate, `${hit}/${c.planted.length}`, `${((total - hit) / mib).toFixed(2)} (approx.)`]);
  }
  process.stdout.write(`${'scanner'.padEnd(44)}${'MiB/s'.padStart(8)}  ${'recall'.padStart(8)}  false positives per MiB\n`);
  for (const [name, rate, recall, fp] of rows) process.stdout.write(`${name.padEnd(44)}${rate.toFixed(1).padStart(8)}  ${recall.padStart(8)}  ${fp}\n`);
  if (slRate > 0) process.stdout.write(`speed-up over secretlint (cordon scan default): ${(cordonRate / slRate).toFixed(1)}x\n`);
  return { rate: cordonRate, rateDecode: decodeRate, slRate, recall, recallOk, fpPerMiB };
}

const fx = runFixtures(process.argv.includes('--verbose'));
const corpus = corpusPart();
const eg = printEgress(await runEgress(EGRESS));
const rnd = runRandomness(corpusFiles(NODE_MODULES), FIXTURES);

// Every figure beside its target (issue 5), in one run.
const rows: [string, string, string, boolean | undefined][] = [];
const pc = (a: number, b: number): string => `${((100 * a) / Math.max(1, b)).toFixed(1)}%`;
rows.push(['fixtures: recall of expected findings', `${pc(fx.cordon.found, fx.cordon.expected)} (${fx.cordon.found}/${fx.cordon.expected})`, '>= 99%', fx.cordon.found >= 0.99 * fx.cordon.expected]);
rows.push(['fixtures: ok.* cases with no finding', `${pc(fx.cordon.okClean, fx.cordon.okCases)} (${fx.cordon.okClean}/${fx.cordon.okCases})`, '>= 99%', fx.cordon.okClean >= 0.99 * fx.cordon.okCases]);
rows.push(['corpus: throughput (cordon scan default)', `${corpus.rate.toFixed(1)} MiB/s`, '>= 300 MiB/s', corpus.rate >= 300]);
rows.push(['corpus: speed-up over secretlint', corpus.slRate > 0 ? `${(corpus.rate / corpus.slRate).toFixed(1)}x` : 'n/a', '>= 20x', corpus.slRate > 0 ? corpus.rate / corpus.slRate >= 20 : undefined]);
rows.push(['corpus: throughput with decoding layers', `${corpus.rateDecode.toFixed(1)} MiB/s`, '(no target)', undefined]);
rows.push(['corpus: planted secrets found', corpus.recall, '100%', corpus.recallOk]);
rows.push(['corpus: false positives per MiB', corpus.fpPerMiB.toFixed(2), '(printed)', undefined]);
rows.push(['egress bench: block cases found', `${eg.blockFound}/${eg.blockTotal}`, 'all', eg.blockFound === eg.blockTotal]);
rows.push(['egress bench: allow cases not flagged', `${eg.allowClean}/${eg.allowTotal}`, 'all', eg.allowClean === eg.allowTotal]);
rows.push(['randomness: benign reported, H vs BPE', `${pc(rnd.fpEntropy, rnd.benign)} vs ${pc(rnd.fpBpe, rnd.benign)}`, 'BPE fewer', rnd.fpBpe < rnd.fpEntropy]);
rows.push(['randomness: benign blocked, H vs BPE', `${pc(rnd.blockFpEntropy, rnd.benign)} vs ${pc(rnd.blockFpBpe, rnd.benign)}`, 'BPE fewer', rnd.blockFpBpe < rnd.blockFpEntropy]);
rows.push(['randomness: secrets reported, H vs BPE', `${pc(rnd.recallEntropy, rnd.secrets)} vs ${pc(rnd.recallBpe, rnd.secrets)}`, 'BPE no worse', rnd.recallBpe >= rnd.recallEntropy]);
rows.push(['randomness: secrets blocked, H vs BPE', `${pc(rnd.blockRecallEntropy, rnd.secrets)} vs ${pc(rnd.blockRecallBpe, rnd.secrets)}`, 'BPE no worse', rnd.blockRecallBpe >= rnd.blockRecallEntropy]);
process.stdout.write(`\nfigures and targets (issue 5); throughput is noisy on a shared machine: compare within one run, repeat before reporting\n`);
process.stdout.write(`${'figure'.padEnd(46)}${'measured'.padStart(22)}  ${'target'.padEnd(14)}met\n`);
for (const [name, value, target, met] of rows) process.stdout.write(`${name.padEnd(46)}${value.padStart(22)}  ${target.padEnd(14)}${met === undefined ? '' : met ? 'yes' : 'NO'}\n`);
