#!/usr/bin/env node
// Bundles the CLI into dist/bin/ (ESM with code splitting): one file to
// compile on start-up instead of hundreds, and each command's dependencies in
// chunks loaded only when that command runs. `tsc` still builds dist/ for the
// library API; package.json's `bin` points at dist/bin/main.js.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bin`;
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  chunkNames: 'chunk-[hash]',
  // Packages that read files next to themselves stay external (resolved from node_modules at run time).
  external: ['web-tree-sitter', 'tree-sitter-bash'],
  banner: { js: "import { createRequire as __cordonRequire } from 'node:module'; const require = __cordonRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});
chmodSync(`${outdir}/main.js`, 0o755);
