/**
 * False positives of the URL checks on realistic URLs: every http(s) URL with a query string found in the text
 * files of node_modules (documentation, examples, source: OAuth flows, API calls, CDN links) and in
 * /usr/share/doc, scanned with `scanUrl` at the proxy's threshold (medium). Prints the number of URLs, of URLs with
 * a credential-named parameter, and every finding of the new detectors (url-query-credential, basic-auth-credentials)
 * so each can be read.
 *
 * Usage: node --import tsx bench/dlp/query-credentials-fp.ts [MAX_FILES]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DlpScanner } from '../../src/dlp/scanner.js';
import { scanUrl } from '../../src/dlp/structured.js';
import { isQueryCredentialName } from '../../src/dlp/query-credentials.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAX_FILES = Number(process.argv[2] ?? 60000);
const TEXT = /\.(?:md|markdown|txt|js|cjs|mjs|ts|json|html|yml|yaml)$/;
const files: string[] = [];
const walk = (dir: string, depth: number): void => {
  if (files.length >= MAX_FILES || depth > 12) return;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = path.join(dir, n);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) walk(p, depth + 1);
    else if (TEXT.test(n) && st.size < 2 * 1024 * 1024) files.push(p);
    if (files.length >= MAX_FILES) return;
  }
};
walk(path.join(ROOT, 'node_modules'), 0);
walk('/usr/share/doc', 0);

const URL_RE = /https?:\/\/[A-Za-z0-9.-]+(?::\d+)?\/[^\s"'`<>()\\]*\?[^\s"'`<>()\\]+/g;
const urls = new Set<string>();
for (const f of files) {
  const text = readFileSync(f, 'latin1');
  for (const m of text.matchAll(URL_RE)) urls.add(m[0]);
}
const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true });
let named = 0;
const flagged: string[] = [];
const started = process.hrtime.bigint();
for (const u of urls) {
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    continue;
  }
  if ([...parsed.searchParams.keys()].some(isQueryCredentialName)) named++;
  for (const f of scanUrl(scanner, u)) if (f.detector === 'url-query-credential' || f.detector === 'basic-auth-credentials' || f.detector === 'generic-secret') flagged.push(`${f.detector} ${f.location.where} ${f.sample}  <- ${u.slice(0, 160)}`);
}
const ms = Number(process.hrtime.bigint() - started) / 1e6;
for (const l of flagged) console.log(l);
console.log(`files ${files.length}, distinct URLs with a query ${urls.size}, with a credential-named parameter ${named}, findings (url-query-credential, basic-auth-credentials, generic-secret) ${flagged.length}; ${ms.toFixed(0)} ms`);
