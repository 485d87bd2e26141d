#!/usr/bin/env node
// Builds cordon's native addon (native/splice: the egress proxy's zero-copy
// relay, Linux splice(2)) from source with node-gyp, offline: the headers are
// the installed Node's own (<prefix>/include/node), node-gyp is npm's copy.
// Run by `npm install`/`npm ci` (package.json "install") and by hand
// (`npm run build:native`). The addon is optional: when it cannot be built
// the proxy relays in JavaScript (slower), so a failure is a warning and this
// script exits 0. CORDON_NATIVE_REQUIRED=1 makes a failure an error (exit 1).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = path.join(root, 'native', 'splice');
const out = path.join(dir, 'build', 'Release', 'cordon_splice.node');
const required = process.env.CORDON_NATIVE_REQUIRED === '1';

function warn(why) {
  process.stderr.write(`cordon: the zero-copy relay (native/splice) was not built: ${why}\n`);
  process.stderr.write('cordon: the egress proxy works without it (it relays in JavaScript, slower); `npx cordon doctor` reports it\n');
  process.exit(required ? 1 : 0);
}

if (process.platform !== 'linux') warn(`splice(2) is Linux only (this is ${process.platform})`);
if (!existsSync(path.join(dir, 'binding.gyp'))) warn(`${dir}/binding.gyp is missing`);

// Up to date: the addon is newer than its sources (`npm run build` by several people at once stays cheap).
const newest = Math.max(...['binding.gyp', 'splice.c'].map((f) => statSync(path.join(dir, f)).mtimeMs));
if (existsSync(out) && statSync(out).mtimeMs >= newest && process.argv[2] !== '--force') process.exit(0);

// node-gyp: npm's own copy (shipped with npm), else one on PATH. Nothing is downloaded.
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' });
  if (npmRoot.status === 0) candidates.push(path.join(npmRoot.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

// Headers of the running Node: a distribution's node (/usr/include/node) or an official tarball (<prefix>/include/node).
function findNodeDir() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  for (const d of [process.env.npm_config_nodedir, prefix, '/usr', '/usr/local']) {
    if (d && existsSync(path.join(d, 'include', 'node', 'node_api.h')) && existsSync(path.join(d, 'include', 'node', 'common.gypi'))) return d;
  }
  return undefined;
}

const gyp = findNodeGyp();
if (gyp === undefined) warn('node-gyp was not found (it ships with npm)');
const nodedir = findNodeDir();
if (nodedir === undefined) warn(`the Node headers were not found (node_api.h under ${path.resolve(path.dirname(process.execPath), '..')}/include/node or /usr/include/node)`);

const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--release', '--loglevel=warn'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, npm_config_nodedir: nodedir } });
if (r.error !== undefined) warn(`node-gyp could not start: ${r.error.message}`);
if (r.status !== 0 || !existsSync(out)) warn(`node-gyp exited with ${r.status ?? r.signal} (needs python3, make and a C compiler)`);
process.stdout.write(`cordon: built ${path.relative(root, out)}\n`);
