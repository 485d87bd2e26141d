/**
 * Corpus throughput of two checkouts in one process, default scan (no decoding layers, as bench/dlp/run.ts's
 * headline figure): the same 8 MiB corpus, scans alternating between the two, CPU time, best and median of N each.
 * Usage: node --import tsx bench/dlp/corpus-paired.ts OTHER_ROOT [N=15]
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildCorpus } from './corpus.js';
import type { DlpScanner as Scanner } from '../../src/dlp/scanner.js';
import type * as ScannerModule from '../../src/dlp/scanner.js';

const here = fileURLToPath(new URL('../..', import.meta.url));
const other = path.resolve(process.argv[2] ?? here);
const n = Number(process.argv[3] ?? 15);
const load = async (root: string): Promise<Scanner> => {
  const { DlpScanner } = (await import(pathToFileURL(path.join(root, 'src/dlp/scanner.ts')).href)) as typeof ScannerModule;
  return new DlpScanner({ decode: false });
};
const scanners: [string, Scanner][] = [[other, await load(other)], [here, await load(here)]];
const c = buildCorpus(path.join(here, 'node_modules'));
const mib = c.text.length / 1048576;
const times = new Map<string, number[]>(scanners.map(([r]) => [r, []]));
for (const [, s] of scanners) s.scanBytes(c.text, 'corpus');
for (let i = 0; i < n; i++) {
  for (const [r, s] of i % 2 === 0 ? scanners : [...scanners].reverse()) {
    const t = process.cpuUsage();
    s.scanBytes(c.text, 'corpus');
    const d = process.cpuUsage(t);
    times.get(r)?.push((d.user + d.system) / 1000);
  }
}
for (const [r, ts] of times) {
  const sorted = [...ts].sort((a, b) => a - b);
  const rate = (ms: number): string => (mib / (ms / 1000)).toFixed(1);
  console.log(`${r}: best ${rate(sorted[0] ?? 1)} MiB/s, median ${rate(sorted[Math.floor(sorted.length / 2)] ?? 1)} MiB/s (CPU, ${n} scans alternating)`);
}
