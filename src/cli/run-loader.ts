/**
 * What bin/cordon starts for `cordon run`: it loads the run entry point's
 * bundle (run.cjs) with V8's code cache, so a run does not parse and compile
 * the bundle's functions again (~5 ms of CPU at every start). The cache is
 * made at the end of a run that had none (it then holds every function that
 * run compiled) and kept in cordon's state directory under the build id; V8
 * refuses a cache made by another V8 version, other flags or another source,
 * and then the bundle is compiled as usual and the cache made again.
 *
 * Trust: the state directory is where cordon's compiled policies and sandbox
 * plans are cached too; it is not visible inside the sandbox, so an agent
 * cannot plant a cache.
 *
 * A function compiled this way cannot use `import()`; the one place of the
 * bundle that needs it (handing a run to main.js) calls `__cordonImport`,
 * the sixth parameter of the wrapper, which imports from here.
 */
import { isAscii } from 'node:buffer';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stateDir } from '../audit/paths.js';
import { type Speculation, speculateRun } from '../sandbox/early.js';
import { frontSpeculation } from '../sandbox/front-early.js';
import { closeInheritedFds } from '../sandbox/inherited-fds.js';
import { reportExitOn, takeExitFd } from './front-report.js';

type CommonJsWrapper = (
  exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string,
  cordonImport: (url: string) => Promise<unknown>, speculation: Speculation | null,
) => void;

// First of all, before anything is spawned: the pipe of bin/cordon's front (native/front), which no child may
// inherit; the exit status is reported on it (front-report.ts). The front has closed every other inherited fd;
// without it they are closed here, so none reaches the sandbox (inherited-fds.ts).
const exitFd = takeExitFd();
if (exitFd !== undefined) reportExitOn(exitFd);
else closeInheritedFds();

/**
 * The early sandbox (src/sandbox/early.ts): the front (native/front) has
 * spawned it before node started, when it was built (front-early.ts takes it
 * over, and its fds, before anything is spawned); otherwise it is spawned
 * here, before the bundle is read and compiled: bubblewrap then builds the
 * sandbox while the bundle loads, and the fork costs less in a process that
 * has not grown yet. run-entry.ts receives it as `__cordonSpeculation` (null:
 * not a run, or the attempt failed; it then runs without one).
 */
// Taken (and fds 4 and 5 closed) whenever the front says it handed them over, even if its exit pipe could not be.
const fromFront = frontSpeculation();
const speculation = fromFront !== undefined ? fromFront : speculateRun();

const dir = import.meta.dirname;
const bundle = join(dir, 'run.cjs');

/**
 * The require run.cjs gets: this file's own when it is the CommonJS bundle
 * beside run.cjs (it resolves the same way; loading node:module for
 * createRequire would cost about a millisecond), else one made for run.cjs.
 */
function bundleRequire(): NodeJS.Require {
  return typeof require === 'function' ? require : process.getBuiltinModule('node:module').createRequire(bundle);
}

function cacheFile(): string | undefined {
  try {
    const build = readFileSync(join(dir, 'build-id'), 'utf8').trim();
    return /^[0-9a-f-]{36}$/.test(build) ? join(stateDir(), 'cache', `run-${build}.v8`) : undefined;
  } catch {
    return undefined;
  }
}

function save(file: string, data: Buffer): void {
  try {
    const cache = dirname(file);
    mkdirSync(cache, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
    // One build's cache is kept: those of earlier builds are dropped (another installed build makes its own again).
    for (const n of readdirSync(cache)) if (/^run-[0-9a-f-]{36}\.v8$/.test(n) && join(cache, n) !== file) rmSync(join(cache, n), { force: true });
  } catch {
    // a cache that cannot be written only costs time
  }
}

/**
 * The bytes of `file`, read with openSync/readSync (warm by now: the early
 * sandbox used them): readFileSync without an encoding runs a general
 * JavaScript path whose first use costs about a millisecond of a cold start.
 */
function readAll(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(512 * 1024);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) return buf.subarray(0, n);
      n += got;
    }
  } finally {
    closeSync(fd);
  }
}

const file = cacheFile();
let cachedData: Buffer | undefined;
try {
  cachedData = file === undefined ? undefined : readAll(file);
} catch {
  cachedData = undefined;
}
// esbuild writes the bundle in ASCII (non-ASCII characters escaped): decoded as Latin-1, one pass with no UTF-8 validation.
const bytes = readAll(bundle);
const text = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
const source = `(function (exports, require, module, __filename, __dirname, __cordonImport, __cordonSpeculation) { ${text}\n})`;
// node:vm is loaded only now, after the early sandbox has been spawned (its first load costs a few tenths of a millisecond).
const script = new (process.getBuiltinModule('node:vm').Script)(source, { filename: bundle, ...(cachedData === undefined ? {} : { cachedData }) });
const mod: { exports: { servedHere?: () => boolean } } = { exports: {} };
// Made at the end of a run this bundle served, so it holds the functions such a run compiles (not those of a hand-over to main.js).
if (file !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
  process.once('exit', () => {
    if (mod.exports.servedHere?.() === true) save(file, script.createCachedData());
  });
}
(script.runInThisContext() as CommonJsWrapper)(mod.exports, bundleRequire(), mod, bundle, dir, (url) => import(url), speculation);
