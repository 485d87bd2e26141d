#!/usr/bin/env node
// Builds native/front/cordon-front (see native/front/front.c): the small
// program bin/cordon starts `cordon run` through, so that the caller gets the
// run's exit status as soon as it is known instead of after Node.js has torn
// its process down (3-5 ms). Compiled from source with the system's C
// compiler ($CC, else cc); nothing is downloaded. Run by `npm install`/`npm
// ci` (package.json "install") and by hand (`npm run build:native`).
// Optional: without it bin/cordon starts node directly, so a failure is a
// warning and this script exits 0. CORDON_NATIVE_REQUIRED=1 makes a failure
// an error (exit 1).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = path.join(root, 'native', 'front');
const src = path.join(dir, 'front.c');
const out = path.join(dir, 'build', 'cordon-front');
const required = process.env.CORDON_NATIVE_REQUIRED === '1';

function warn(why) {
  process.stderr.write(`cordon: the run front (native/front) was not built: ${why}\n`);
  process.stderr.write('cordon: `cordon run` works without it (it returns a few milliseconds later)\n');
  process.exit(required ? 1 : 0);
}

if (process.platform !== 'linux') warn(`it is built for Linux only (this is ${process.platform})`);
if (!existsSync(src)) warn(`${src} is missing`);
// Up to date when built after every source (front.c, early.c, early.h) was last changed.
const sources = ['front.c', 'early.c', 'early.h'].map((f) => path.join(dir, f));
if (existsSync(out) && sources.every((f) => !existsSync(f) || statSync(out).mtimeMs >= statSync(f).mtimeMs) && !process.argv.includes('--force')) process.exit(0);

const cc = process.env.CC || 'cc';
mkdirSync(path.dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-o', tmp, src, path.join(dir, 'early.c')], { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.error !== undefined) warn(`${cc} could not start: ${r.error.message} (install a C compiler: apt-get install -y gcc)`);
if (r.status !== 0) warn(`${cc} exited with ${r.status ?? r.signal}`);
renameSync(tmp, out);
process.stdout.write(`cordon: built ${path.relative(root, out)}\n`);
