/** The built package: the `bin` and the curated exports work from dist/ (CI builds before testing). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { cordon, distBuilt, DIST_BIN, ROOT } from './cli-helpers.js';

const built = distBuilt();
const skip = built ? false : 'dist/ is not built: run `npm run build` first';

void describe('built package', () => {
  void it('package.json names the cordon bin in dist/', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { name: string; bin: Record<string, string>; type: string };
    assert.equal(pkg.name, 'cordon');
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.bin.cordon, 'bin/cordon');
  });

  void it('the bin runs from dist/', { skip }, () => {
    assert.match(readFileSync(DIST_BIN, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    const v = cordon(['--version'], { dist: true });
    assert.equal(v.status, 0, v.stderr);
    const c = cordon(['policy', 'check'], { dist: true, cwd: '/tmp' });
    assert.equal(c.status, 0, c.stderr);
  });

  void it('the public exports load from dist/', { skip }, async () => {
    const mod = (await import(pathToFileURL(`${ROOT}/dist/index.js`).href)) as Record<string, unknown>;
    for (const name of ['Policy', 'loadPolicy', 'parseSubject', 'CordonError', 'AuditWriter', 'verifyLog', 'canonicalizeHost', 'classifyAddress', 'policyJsonSchema']) {
      assert.equal(typeof mod[name], 'function', `${name} is exported`);
    }
  });

  void it('cordon run\'s entry point stays small: no schema library, no YAML parser, nothing only a run with network needs', { skip }, () => {
    const run = readFileSync(`${ROOT}/dist/bin/run.cjs`, 'utf8');
    // A dynamic import added to the run path is inlined into run.cjs unless scripts/bundle.mjs lists it as cold.
    assert.ok(run.length < 300_000, `run.cjs is ${run.length} bytes; a new import on the run path pulled code in (list it in COLD in scripts/bundle.mjs)`);
    for (const pkg of ['node_modules/zod', 'node_modules/yaml', 'node_modules/commander', '@peculiar']) assert.ok(!run.includes(pkg), `run.cjs holds ${pkg}`);
  });
});
