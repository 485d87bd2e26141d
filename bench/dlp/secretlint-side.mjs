// Runs secretlint (installed OUTSIDE the repository, e.g. /tmp/secretlint-scratch:
//   npm install secretlint @secretlint/secretlint-rule-preset-recommend)
// on a list of jobs read as JSON from argv[2]: [{ file, rules }] where rules are
// per-rule options for the recommended preset. Prints JSON: per file, the
// message ranges, and the total wall time.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const dir = process.env.SECRETLINT_DIR ?? '/tmp/secretlint-scratch';
const require = createRequire(path.join(dir, 'package.json'));
const { createEngine } = await import(require.resolve('@secretlint/node'));
const version = JSON.parse(readFileSync(require.resolve('secretlint/package.json'), 'utf8')).version;
const jobs = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = [];
const t0 = performance.now();
for (const job of jobs) {
  const run = async (rules) => {
    const engine = await createEngine({
      cwd: dir, formatter: 'json', color: false, maskSecrets: true,
      configFileJSON: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rules }] },
    });
    return engine.executeOnFiles({ filePathList: [job.file] });
  };
  let r;
  try {
    r = await run(job.rules ?? []);
  } catch {
    // A rule named in the case's options that this preset version does not have: run without the options.
    r = await run([]);
  }
  const results = JSON.parse(r.output);
  const messages = results.flatMap((x) => x.messages.map((m) => ({ range: m.range, ruleId: m.ruleId, messageId: m.messageId })));
  out.push({ file: job.file, messages });
}
process.stdout.write(JSON.stringify({ version, ms: performance.now() - t0, results: out }));
