#!/usr/bin/env node
// Bundles the CLI into dist/bin/ (ESM with code splitting): one file to
// compile on start-up instead of hundreds, and each command's dependencies in
// chunks loaded only when that command runs. `tsc` still builds dist/ for the
// library API; package.json's `bin` points at dist/bin/main.js.
import { build } from 'esbuild';
import { randomUUID } from 'node:crypto';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bin`;
rmSync(outdir, { recursive: true, force: true });

// Node's built-in modules are loaded with require(), not import: an ESM import
// of a built-in builds a facade that reads every export, which loads modules
// the command never uses (fs's streams, for one) and costs milliseconds at
// every start. esbuild turns the named imports into property reads at the
// point of use.
const builtinsViaRequire = {
  name: 'builtins-via-require',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'import-statement' || args.kind === 'dynamic-import'
      ? { path: args.path, namespace: 'cordon-builtin' }
      : { path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'cordon-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

await build({
  plugins: [builtinsViaRequire],
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  chunkNames: 'chunk-[hash]',
  // Packages that read files next to themselves stay external (resolved from node_modules at run time).
  // @peculiar/x509 too: bundled, its dynamic import (src/egress/tls-ca.ts) gave a namespace without the named exports
  // (`cordon proxy`'s TLS inspection failed: "reading 'createSelfSigned'"); node's own import gets them.
  external: ['web-tree-sitter', 'tree-sitter-bash', '@peculiar/x509'],
  banner: { js: "import { createRequire as __cordonRequire } from 'node:module'; const require = __cordonRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});
chmodSync(`${outdir}/main.js`, 0o755);

// `cordon run`'s own entry point: one CommonJS file (no module loader start-up,
// one file to read) holding just what a run without network needs. The parts
// only a run with network, MCP servers, a changed policy or an approval needs are left out:
// the entry point sends such runs to main.js before starting anything, so
// reaching one of them here is a bug, and it fails closed with this message.
const COLD = [
  'src/policy/load.ts', // YAML + zod: only when the policy changed
  'src/egress/proxy-client.ts', 'src/dlp/known-sources.ts', 'src/approval/run.ts', 'src/broker/client.ts', 'src/audit/alerts.ts', // network
  'src/mcp/run/start.ts', // MCP servers
];
const coldParts = {
  name: 'cold-parts',
  setup(b) {
    b.onResolve({ filter: /\.js$/ }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.namespace !== 'file') return undefined;
      const rel = path.relative(root, path.resolve(args.resolveDir, args.path)).replace(/\.js$/, '.ts');
      return COLD.includes(rel) ? { path: rel, namespace: 'cordon-cold' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'cordon-cold' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`the run entry point reached ${args.path}, which only the full program has; run node dist/bin/main.js run ... instead and report this`)});`,
      loader: 'js',
    }));
  },
};
// `import path from 'node:path'` in a CommonJS bundle becomes esbuild's __toESM(require('node:path')): a copy of
// the module object with a getter per export, made once per importing module (13 in run.cjs: ~0.6 ms of a
// cold start). Served as an ES module with a default and the named exports instead, it is one require.
const PATH_EXPORTS = ['basename', 'delimiter', 'dirname', 'extname', 'format', 'isAbsolute', 'join', 'normalize', 'parse', 'posix', 'relative', 'resolve', 'sep', 'toNamespacedPath', 'win32'];
const pathAsEsm = {
  name: 'path-as-esm',
  setup(b) {
    b.onResolve({ filter: /^node:path$/ }, (args) => (args.kind === 'import-statement' ? { path: 'node:path', namespace: 'cordon-path' } : { path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'cordon-path' }, () => ({
      contents: `const p = require('node:path');\nexport default p;\nexport const { ${PATH_EXPORTS.join(', ')} } = p;\n`,
      loader: 'js',
    }));
  },
};
await build({
  plugins: [coldParts, pathAsEsm],
  absWorkingDir: root,
  entryPoints: { run: 'src/cli/run-entry.ts' },
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outdir,
  external: ['web-tree-sitter', 'tree-sitter-bash'],
  // import.meta.url is computed on use (a getter), not at every start: node:url's first use costs start-up time.
  define: { 'import.meta.url': '__cordonMeta.url', 'import.meta.dirname': '__dirname', 'import.meta.filename': '__filename', 'import.meta.resolve': '__cordonMeta.resolve' },
  banner: { js: "const __cordonMeta = { get url() { return require('node:url').pathToFileURL(__filename).href; }, resolve: (s) => require('node:url').pathToFileURL(require.resolve(s)).href };" },
  logLevel: 'warning',
  legalComments: 'none',
});

// What bin/cordon starts for `cordon run`: loads run.cjs through V8's code cache (src/cli/run-loader.ts).
await build({
  absWorkingDir: root,
  entryPoints: { 'run-loader': 'src/cli/run-loader.ts' },
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outdir,
  define: { 'import.meta.dirname': '__dirname', 'import.meta.filename': '__filename' },
  logLevel: 'warning',
  legalComments: 'none',
});

// One id for both bundles of this build: cached policies and plans are keyed by it.
writeFileSync(`${outdir}/build-id`, `${randomUUID()}\n`);
