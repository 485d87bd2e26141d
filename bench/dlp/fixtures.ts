/**
 * (a) secretlint's own fixtures: recall on the expected findings of `ng.*`
 * cases and clean rate on cases that expect none, per provider, for cordon
 * and for secretlint run on the same files with the same per-case options.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DlpScanner, type ScannerOptions } from '../../src/dlp/scanner.js';
import { scanBinary } from '../../src/dlp/binary.js';

export interface FixtureCase {
  readonly provider: string;
  readonly name: string;
  readonly file: string;
  readonly expected: readonly (readonly [number, number])[];
  readonly positive: boolean;
  /** secretlint rule options from the case's .secretlintrc.json. */
  readonly rules: readonly { id: string; options?: Record<string, unknown> }[];
}

const INPUT = /^(?:input(?:\..+)?|\.npmrc|package\.json|package-lock\.json)$/;

export function loadFixtures(root: string): FixtureCase[] {
  const out: FixtureCase[] = [];
  for (const provider of readdirSync(root).sort()) {
    const pdir = path.join(root, provider);
    if (provider === 'LICENSE') continue;
    for (const name of readdirSync(pdir).sort()) {
      const dir = path.join(pdir, name);
      const input = readdirSync(dir).find((f) => INPUT.test(f));
      if (input === undefined) continue;
      const output = JSON.parse(readFileSync(path.join(dir, 'output.json'), 'utf8')) as { messages?: { range: [number, number] }[] };
      const rcPath = path.join(dir, '.secretlintrc.json');
      const rc = existsSync(rcPath) ? (JSON.parse(readFileSync(rcPath, 'utf8')) as { rules: { id: string; options?: Record<string, unknown> }[] }) : { rules: [] };
      const expected = (output.messages ?? []).map((m) => m.range);
      out.push({ provider, name, file: path.join(dir, input), expected, positive: name.startsWith('ng.') || expected.length > 0, rules: rc.rules });
    }
  }
  return out;
}

/** The same per-case options, given to cordon: allow-lists, and the AWS id rule switch. */
export function cordonOptionsFor(c: FixtureCase): ScannerOptions {
  const allow: (string | RegExp)[] = [];
  const enable: string[] = [];
  const disable: string[] = [];
  for (const r of c.rules) {
    const o = r.options ?? {};
    for (const a of (o.allows as string[] | undefined) ?? []) {
      const m = /^\/(.*)\/([a-z]*)$/.exec(a);
      allow.push(m === null ? a : new RegExp(m[1] ?? '', m[2]));
    }
    if (o.enableIDScanRule === true) enable.push('aws-account-id');
    if (o.enableIDScanRule === false) disable.push('aws-access-key-id');
  }
  return { allow, enable, disable };
}

export interface CaseResult {
  readonly found: number;
  readonly flagged: boolean;
}

function overlaps(ranges: readonly (readonly [number, number])[], r: readonly [number, number]): boolean {
  return ranges.some(([s, e]) => s < Math.max(r[1], r[0] + 1) && e > r[0]);
}

export function scoreCase(c: FixtureCase, ranges: readonly (readonly [number, number])[]): CaseResult {
  const found = c.expected.filter((r) => overlaps(ranges, r)).length;
  return { found, flagged: ranges.length > 0 };
}

export function cordonRanges(c: FixtureCase): [number, number][] {
  const bytes = readFileSync(c.file);
  const scanner = new DlpScanner({ ...cordonOptionsFor(c), decode: false });
  if (bytes.includes(0)) return scanBinary(bytes).map(() => [0, bytes.length]);
  const text = bytes.toString('utf8');
  return scanner.scanText(text, c.file).map((f) => [f.location.offset, f.location.offset + f.location.length]);
}
