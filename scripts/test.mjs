#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node:test through tsx.
// Node 20's test runner takes no globs, so the files are listed here.
// Extra arguments are passed to `node --test` (e.g. --test-name-pattern=...).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));

function find(dir) {
  const out = [];
  for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...find(rel));
    else if (e.name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}

const files = (only.length > 0 ? only : [...find('src'), ...find('test')]).sort();
const reporter = process.env.CI ? ['--test-reporter=spec'] : [];
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporter, ...flags, ...files], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
