/**
 * (b) An 8 MiB corpus of real source code (this repository's node_modules,
 * walked in sorted order, so the same lockfile gives the same bytes) with
 * secrets planted at positions chosen by a seeded generator. The planted
 * values are generated here (checksums computed), never real credentials.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { makeChecksummedToken } from '../../src/dlp/crc32.js';
import { seededRandom } from '../../src/seeded-random.js';

/** Deterministic PRNG (mulberry32). */
export const rng = seededRandom;

const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function randomString(r: () => number, n: number, alphabet = B62): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet.charAt(Math.floor(r() * alphabet.length));
  return s;
}

/** One planted secret per kind, in a realistic line of code or config. */
export function plantedKinds(r: () => number): { kind: string; line: (v: string) => string; value: () => string }[] {
  const hex = '0123456789abcdef';
  const b32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [
    { kind: 'github-token', line: (v) => `const token = "${v}";`, value: () => makeChecksummedToken('ghp', randomString(r, 30)) },
    { kind: 'npm-access-token', line: (v) => `//registry.npmjs.org/:_authToken=${v}`, value: () => makeChecksummedToken('npm', randomString(r, 30)) },
    { kind: 'aws-access-key-id', line: (v) => `aws_access_key_id = ${v}`, value: () => `AKIA${randomString(r, 16, b32)}` },
    { kind: 'aws-secret-access-key', line: (v) => `AWS_SECRET_ACCESS_KEY=${v}`, value: () => randomString(r, 40, `${B62}/+`) },
    { kind: 'anthropic-api-key', line: (v) => `ANTHROPIC_API_KEY='${v}'`, value: () => `sk-ant-api03-${randomString(r, 93, `${B62}_-`)}AA` },
    { kind: 'openai-api-key', line: (v) => `openai.api_key = "${v}"`, value: () => `sk-proj-${randomString(r, 74)}T3BlbkFJ${randomString(r, 74)}` },
    { kind: 'slack-token', line: (v) => `SLACK_BOT_TOKEN: ${v}`, value: () => `xoxb-${randomString(r, 11, '0123456789')}-${randomString(r, 13, '0123456789')}-${randomString(r, 24)}` },
    { kind: 'stripe-secret-key', line: (v) => `stripe.api_key = "${v}"`, value: () => `sk_live_${randomString(r, 24)}` },
    { kind: 'gcp-api-key', line: (v) => `"apiKey": "${v}",`, value: () => `AIza${randomString(r, 35, `${B62}_-`)}` },
    { kind: 'huggingface-token', line: (v) => `HF_TOKEN=${v}`, value: () => `hf_${randomString(r, 34, B62.slice(0, 52))}` },
    { kind: 'gitlab-token', line: (v) => `GITLAB_TOKEN="${v}"`, value: () => `glpat-${randomString(r, 20)}` },
    { kind: 'sendgrid-api-key', line: (v) => `sendgrid_key: ${v}`, value: () => `SG.${randomString(r, 22)}.${randomString(r, 43)}` },
    { kind: 'databricks-token', line: (v) => `DATABRICKS_TOKEN=${v}`, value: () => `dapi${randomString(r, 32, hex)}` },
    { kind: 'database-url-password', line: (v) => `DATABASE_URL=postgres://app:${v}@db.internal:5432/app`, value: () => randomString(r, 20) },
    { kind: 'generic-secret', line: (v) => `  client_secret: "${v}"`, value: () => randomString(r, 32) },
    { kind: 'jwt', line: (v) => `Authorization: Bearer ${v}`, value: () => `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(`{"sub":"${randomString(r, 8)}"}`).toString('base64url')}.${randomString(r, 43, `${B62}_-`)}` },
  ];
}

function walk(dir: string, out: string[]): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(dir, e.name);
    // node_modules/.cache holds what benchmarks and tools build while they run (bench/egress's bundles): not the lockfile's bytes.
    if (e.isDirectory() && e.name === '.cache') continue;
    if (e.isDirectory()) walk(p, out);
    else if (/\.(?:js|mjs|cjs|ts|json|md)$/.test(e.name) && statSync(p).size < 256 * 1024) out.push(p);
  }
  return out;
}

export interface Corpus {
  readonly text: Buffer;
  /** Byte spans of planted secret values. */
  readonly planted: { kind: string; start: number; end: number }[];
}

/** The files the corpus is made of, in order. */
export function corpusFiles(nodeModules: string, bytes = 8 * 1024 * 1024): string[] {
  const out: string[] = [];
  let size = 0;
  for (const f of walk(nodeModules, [])) {
    out.push(f);
    size += statSync(f).size;
    if (size >= bytes) break;
  }
  return out;
}

export function buildCorpus(nodeModules: string, bytes = 8 * 1024 * 1024, plants = 400, seed = 5): Corpus {
  const r = rng(seed);
  const parts: Buffer[] = [];
  for (const f of corpusFiles(nodeModules, bytes)) parts.push(readFileSync(f));
  const base = Buffer.concat(parts).subarray(0, bytes);
  // Plant at line starts chosen by the generator, in increasing order.
  const positions: number[] = [];
  for (let i = 0; i < plants; i++) {
    let at = Math.floor(r() * base.length);
    const nl = base.indexOf(10, at);
    at = nl < 0 ? base.length : nl + 1;
    positions.push(at);
  }
  positions.sort((a, b) => a - b);
  const kinds = plantedKinds(r);
  const out: Buffer[] = [];
  const planted: Corpus['planted'] = [];
  let prev = 0;
  let len = 0;
  positions.forEach((at, i) => {
    const chunk = base.subarray(prev, at);
    out.push(chunk);
    len += chunk.length;
    const k = kinds[i % kinds.length];
    if (k === undefined) return;
    const value = k.value();
    const line = `${k.line(value)}\n`;
    const s = len + line.indexOf(value);
    planted.push({ kind: k.kind, start: s, end: s + value.length });
    const lb = Buffer.from(line, 'latin1');
    out.push(lb);
    len += lb.length;
    prev = at;
  });
  out.push(base.subarray(prev));
  return { text: Buffer.concat(out), planted };
}
