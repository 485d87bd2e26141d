/**
 * False positives of the field checks the MCP gateway runs on arguments (src/dlp/env-dump.ts,
 * src/dlp/split-fields.ts) on text that is not a leak: every source,
 * document and config file under node_modules, src, profiles and
 * /usr/share/doc (up to 6000 files of < 200 kB), and every text file under
 * /etc and /usr/share with two `NAME=value` lines or more, written as a
 * `write_file {path, content}` call (env dumps as lines, as JSON, as
 * objects), and the same files' whitespace-free tokens (4-64 characters)
 * in order, eight per call as eight fields (split secrets: 56 ordered pairs
 * and the runs of 4-6 per call). Prints the counts and every flagged call.
 * Usage: node --import tsx bench/mcp/argument-fp.ts [MAX_TOKEN_CALLS]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DlpScanner } from '../../src/dlp/scanner.js';
import { jsonLeaves } from '../../src/dlp/structured.js';
import { findEnvDump, findEnvJson, findEnvObject } from '../../src/dlp/env-dump.js';
import { findSplitSecrets } from '../../src/dlp/split-fields.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAX_TOKEN_CALLS = Number(process.argv[2] ?? 40_000);
const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true });
const files: string[] = [];
/** Adds the files under `d` that `take` accepts (it gets the path and the entry name), until `files` holds `max`. */
const walk = (d: string, max: number, maxDepth: number, take: (p: string, name: string) => boolean, depth = 0): void => {
  if (files.length > max || depth > maxDepth) return;
  let entries;
  try {
    entries = readdirSync(d, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) {
      if (e.name !== '.git') walk(p, max, maxDepth, take, depth + 1);
    } else if (e.isFile()) {
      try {
        if (statSync(p).size < 200_000 && take(p, e.name)) files.push(p);
      } catch {
        // unreadable: skipped
      }
    }
  }
};
const textFile = (_p: string, name: string): boolean => /\.(md|ts|js|mjs|json|ya?ml|sh|env|example|txt)$|^\.env/.test(name);
for (const d of ['node_modules', 'src', 'profiles']) walk(path.join(ROOT, d), 6000, 8, textFile);
walk('/usr/share/doc', 6000, 8, textFile);
// Files with NAME=value lines (shell defaults, os-release, build and service configs) from /etc and /usr/share, any name.
const ENV_LINE = /^[ \t]*(?:export[ \t]+)?[A-Z_][A-Z0-9_]*=/gm;
const envShaped = (text: string): boolean => (text.match(ENV_LINE)?.length ?? 0) >= 2;
const envFile = (p: string): boolean => {
  const text = readFileSync(p, 'utf8');
  return !text.slice(0, 1024).includes('\0') && envShaped(text);
};
walk('/etc', 9000, 6, envFile);
walk('/usr/share', 9000, 6, envFile);

let env = 0;
let shaped = 0;
for (const f of files) {
  const content = readFileSync(f, 'utf8');
  if (envShaped(content)) shaped++;
  const found = [...findEnvDump(content), ...findEnvJson(content), ...findEnvObject({ path: f, content })];
  if (found.length > 0) {
    env++;
    console.log(`env-dump: ${f}: ${found.map((x) => x.sample).join(' ')}`);
  }
}
let calls = 0;
let split = 0;
const tokens: string[] = [];
for (const f of files) {
  for (const t of readFileSync(f, 'utf8').split(/\s+/)) if (t.length >= 4 && t.length <= 64) tokens.push(t);
  if (tokens.length >= MAX_TOKEN_CALLS * 8) break;
}
for (let i = 0; i + 8 <= tokens.length && calls < MAX_TOKEN_CALLS; i += 8) {
  const args: Record<string, string> = {};
  tokens.slice(i, i + 8).forEach((t, k) => (args[`f${k}`] = t));
  calls++;
  const found = findSplitSecrets(scanner, jsonLeaves(args));
  if (found.length > 0) {
    split++;
    console.log(`split: ${JSON.stringify(args).slice(0, 300)}: ${found.map((x) => `${x.detector} (${x.fields.join('+')})`).join(' ')}`);
  }
}
console.log(`write_file calls of ${files.length} files (${shaped} with two NAME= lines or more): env-dump flagged ${env}; calls of 8 source tokens: ${calls}, split flagged ${split}`);
