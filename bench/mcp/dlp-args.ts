/**
 * The DLP scan of one small tool argument, as the gateway runs it before
 * forwarding a call (`dlpArgumentScanner`: `scanJsonValue` over the
 * arguments, each leaf as `name: value`), with the quick reject
 * (src/dlp/quick-reject.ts) and without it (`quickReject: false`, the full
 * scan), and the scanner's stages one by one on the same text. Two figures
 * each: hot (calls back to back, µs per call) and cold (32 MB of memory
 * walked before each call, as the client, the server and other processes do
 * between two messages; median µs). Every argument is distinct
 * (`hello N`), so the scanner's memo of clean texts never answers.
 * Usage: node --import tsx bench/mcp/dlp-args.ts [CALLS] [COLD_CALLS]
 * (through tsx every function pays for esbuild's name helper; bundle it with
 * esbuild for the figures of the built CLI).
 */
import { childLayers, LayerBudget } from '../../src/dlp/decode.js';
import { findMixedScriptWords, normalizationWindowsText } from '../../src/dlp/normalize.js';
import { QuickReject } from '../../src/dlp/quick-reject.js';
import { cardNumbers, DlpScanner } from '../../src/dlp/scanner.js';
import { scanJsonValue } from '../../src/dlp/structured.js';
import { dlpArgumentScanner } from '../../src/mcp/dlp-argument-scanner.js';

const CALLS = Number(process.argv[2] ?? 100_000);
const COLD_CALLS = Number(process.argv[3] ?? 300);

const options = { minConfidence: 'medium', traffic: true } as const;
const quick = new DlpScanner(options);
const full = new DlpScanner({ ...options, quickReject: false });
const reject = new QuickReject(quick.engine.keywords);
const text = (i: number): string => `message: hello ${i}\n`;
const argScanner = dlpArgumentScanner();
const call = { server: 'bench', tool: 'echo' };
/** A GitHub get_file_contents call: four short leaves without whitespace, so the split-secret pairs run (12 joins). */
const fourFields = (i: number): unknown => ({ owner: 'octo-org', repo: 'hello-world', path: `src/lib/file${i}.ts`, branch: 'main' });

const cases: [string, (i: number) => unknown][] = [
  ['dlpArgumentScanner (the gateway\'s)', (i) => argScanner.scan({ message: `hello ${i}` }, call)],
  ['scanJsonValue, quick reject', (i) => scanJsonValue(quick, { message: `hello ${i}` }, 'args')],
  ['4 fields: dlpArgumentScanner', (i) => argScanner.scan(fourFields(i), call)],
  ['4 fields: scanJsonValue', (i) => scanJsonValue(quick, fourFields(i), 'args')],
  ['scanJsonValue, full scan', (i) => scanJsonValue(full, { message: `hello ${i}` }, 'args')],
  ['scanText, quick reject', (i) => quick.scanText(text(i), '')],
  ['scanText, full scan', (i) => full.scanText(text(i), '')],
  ['  quick reject alone', (i) => reject.clean(text(i))],
  ['  full: detectors (engine.matches)', (i) => full.engine.matches(text(i))],
  ['  full: normalisation windows', (i) => normalizationWindowsText(text(i))],
  ['  full: card numbers', (i) => cardNumbers(text(i))],
  ['  full: mixed-script words', (i) => findMixedScriptWords(text(i))],
  ['  full: decoding layers', (i) => childLayers(text(i), new LayerBudget())],
  ['  the text alone', (i) => text(i)],
];

const junk = new Float64Array(4 << 20);
const thrash = (): void => {
  for (let i = 0; i < junk.length; i += 8) junk[i]! += 1;
};

console.log(`DLP scan of one small tool argument ({message: "hello N"}): hot (${CALLS} calls, us per call) and cold (${COLD_CALLS} calls after 32 MB walked, median us)`);
let n = 0;
for (const [label, f] of cases) {
  for (let i = 0; i < CALLS; i++) f(n++);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) f(n++);
  const hot = Number(process.hrtime.bigint() - t0) / 1e3 / CALLS;
  const cold: number[] = [];
  for (let i = 0; i < COLD_CALLS; i++) {
    thrash();
    const t = process.hrtime.bigint();
    f(n++);
    cold.push(Number(process.hrtime.bigint() - t) / 1e3);
  }
  cold.sort((a, b) => a - b);
  console.log(`  ${label.padEnd(36)} hot ${hot.toFixed(2).padStart(6)}  cold ${cold[cold.length >> 1]!.toFixed(1).padStart(6)}`);
}
