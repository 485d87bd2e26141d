/**
 * Early start: bubblewrap spawned from the argv of the last run with the same
 * command line and working directory, before cordon has computed anything, so
 * that bubblewrap builds the sandbox (namespaces, mounts: ~15 ms) while cordon
 * loads, looks up its plan, scans the workspace and scrubs the environment.
 *
 * Nothing runs in that sandbox before cordon has checked it: bwrap reads the
 * seccomp program (`--seccomp 4`) after every mount and before it starts the
 * command, and fd 4 is a socket only this process writes to. The runner
 * computes the argv afresh and writes the real program only when the two argv
 * are identical (`adopt`); otherwise it writes a program that kills the
 * command's first system call (`abandon`) and spawns a fresh sandbox. If this
 * process dies first, bwrap reads an empty program, which the kernel refuses,
 * and bwrap exits without starting the command.
 *
 * The remembered argv is never trusted: it is only a guess at what the fresh
 * computation will produce. Before a guess is spawned it must consist of the
 * options cordon itself emits (no option that writes to the host) with the
 * gate (`--seccomp 4`) present, and every path it mounts must exist now, so
 * bubblewrap neither creates a mount point on the host nor fails loudly.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../audit/paths.js';
import { tempDir } from '../host-dirs.js';
import { closeCopies, COPIED_FILE_FD, copyable, fileSizeLimit, openCopies } from './copied-files.js';
import { type RawChild, type SandboxChild, spawnRaw } from './raw-spawn.js';

/** The fd (in bwrap's table) of the seccomp program, which is also the gate. */
export const SECCOMP_FD = 4;
/** The fd of bwrap's JSON status (a file of the run's private directory). */
export const STATUS_FD = 3;

/** The private directories of one run: `base` holds `home`, `tmp` and bwrap's status file. */
export interface RunDirs {
  readonly base: string;
  readonly home: string;
  readonly tmp: string;
}

/** A bwrap spawned from a remembered argv, blocked before its command until the runner writes to `gate`. */
export interface EarlySandbox {
  readonly child: SandboxChild;
  readonly bwrap: string;
  readonly args: readonly string[];
  readonly dirs: RunDirs;
  readonly statusFile: string;
}

/** Where a run's argv is remembered, and the early sandbox spawned from it (null when there was none or it did not qualify). */
export interface Speculation {
  readonly file: string;
  readonly early: EarlySandbox | null;
}

/**
 * The remembered file (read by native/front/early.c too, so kept simple): `MAGIC`, bwrap's absolute path and
 * each argument, each followed by a NUL; the byte 0x01 (`BASE_MARK`) stands for the run's private directory.
 */
const MAGIC = 'cordon-early-2';
const BASE_MARK = '\u0001';

/** Options bwrap-args.ts emits, with their number of operands. Nothing else may appear in a remembered argv. */
const ARITY = new Map<string, number>([
  ['--unshare-all', 0], ['--die-with-parent', 0], ['--new-session', 0], ['--clearenv', 0],
  ['--hostname', 1], ['--proc', 1], ['--dev', 1], ['--tmpfs', 1], ['--remount-ro', 1], ['--seccomp', 1],
  ['--json-status-fd', 1], ['--chdir', 1],
  ['--ro-bind-try', 2], ['--bind-try', 2], ['--bind', 2], ['--ro-bind', 2], ['--setenv', 2], ['--symlink', 2],
  ['--perms', 1], ['--file', 2],
]);

export function makeRunDirs(): RunDirs {
  const base = mkdtempSync(join(tempDir(), 'cordon-'));
  const dirs = { base, home: join(base, 'home'), tmp: join(base, 'tmp') };
  mkdirSync(dirs.home, { mode: 0o700 });
  mkdirSync(dirs.tmp, { mode: 0o700 });
  return dirs;
}

/**
 * Removes a run's private directory: the common case (HOME and TMPDIR left
 * empty, bwrap's status files) with one call per entry, anything else
 * recursively (which never follows a link planted inside).
 */
export function removeRunDirs(dirs: RunDirs): void {
  try {
    rmdirSync(dirs.home);
    rmdirSync(dirs.tmp);
    for (const name of readdirSync(dirs.base)) unlinkSync(join(dirs.base, name));
    rmdirSync(dirs.base);
  } catch {
    rmSync(dirs.base, { recursive: true, force: true, maxRetries: 2 });
  }
}

/**
 * FNV-1a (32 bits, twice with different seeds) over bytes, as hex: names the file only, its content is checked.
 * native/front/early.c computes the same over the same bytes.
 */
function nameHash(bytes: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ bytes.length;
  for (const c of bytes) {
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** The file remembering the argv of runs of `argv` (what follows `cordon`) started in `cwd`: named by the UTF-8 bytes of `cwd` and each argument, each argument preceded by a NUL. */
export function speculationFile(cwd: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'cache', `early-${nameHash(Buffer.from([cwd, ...argv].join('\u0000')))}.bin`);
}

function kind(p: string): 'dir' | 'other' | 'missing' {
  try {
    return lstatSync(p).isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}

function linkText(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

/**
 * True when `args` holds only options cordon emits, has the gate, and every
 * path it mounts exists now in the shape the mount needs (a hidden file is
 * not a directory, a hidden directory is one), so bwrap creates nothing on
 * the host and does not fail on a path that has gone since.
 */
export function qualifies(args: readonly string[]): boolean {
  let gate = 0;
  let die = false;
  let copies = 0;
  let limit: number | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') break;
    const n = ARITY.get(a);
    if (n === undefined || i + n >= args.length) return false;
    const x = args[i + 1] ?? '';
    const y = args[i + 2] ?? '';
    switch (a) {
      case '--die-with-parent':
        die = true;
        break;
      case '--seccomp':
        if (x !== String(SECCOMP_FD)) return false;
        gate++;
        break;
      case '--json-status-fd':
        if (x !== String(STATUS_FD)) return false;
        break;
      case '--tmpfs':
        if (x !== '/tmp' && kind(x) !== 'dir') return false;
        break;
      case '--chdir':
        if (kind(x) !== 'dir') return false;
        break;
      case '--bind':
      case '--ro-bind':
        if (x === '/dev/null' ? kind(y) !== 'other' : kind(x) === 'missing' || (y !== x && kind(y) === 'missing')) return false;
        break;
      case '--bind-try':
      case '--ro-bind-try':
        if (x !== y) return false;
        break;
      case '--symlink':
        // Only the link the host has at that very path: bwrap then creates nothing new, wherever the path is.
        if (linkText(y) !== x) return false;
        break;
      case '--perms':
        if (x !== '0444') return false;
        break;
      case '--file': {
        // A copy of the host file at that very path (opened by `speculate`), the copies numbered in order from COPIED_FILE_FD,
        // that bwrap can write (the file size limit may have changed since).
        if (x !== String(COPIED_FILE_FD + copies)) return false;
        const st = lstatSync(y, { throwIfNoEntry: false });
        if (st === undefined || !copyable(y, st, (limit ??= fileSizeLimit()))) return false;
        copies++;
        break;
      }
      default:
        break;
    }
    i += n;
  }
  return gate === 1 && i < args.length - 1 && die;
}

/** The paths of a qualified argv's `--file` options, in order (their fds are COPIED_FILE_FD onwards). */
function copiedPaths(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    const a = args[i] ?? '';
    if (a === '--file') out.push(args[i + 2] ?? '');
    i += ARITY.get(a) ?? 0;
  }
  return out;
}

function readRemembered(file: string): { bwrap: string; args: string[] } | null {
  try {
    const fields = readFileSync(file, 'utf8').split('\u0000');
    // MAGIC, bwrap, at least one argument, and the empty string after the last NUL.
    if (fields.length < 4 || fields[0] !== MAGIC || fields.pop() !== '') return null;
    const [, bwrap = '', ...args] = fields;
    return bwrap.startsWith('/') ? { bwrap, args } : null;
  } catch {
    return null;
  }
}

/**
 * Spawns the sandbox remembered in `file` (see `speculationFile`), if there
 * is one that qualifies; never throws (a failed guess costs only time).
 */
export function speculate(file: string): Speculation {
  const remembered = readRemembered(file);
  if (remembered === null) return { file, early: null };
  let dirs: RunDirs | undefined;
  try {
    dirs = makeRunDirs();
    const base = dirs.base;
    const args = remembered.args.map((a) => a.split(BASE_MARK).join(base));
    if (!qualifies(args)) {
      removeRunDirs(dirs);
      return { file, early: null };
    }
    const statusFile = join(base, 'status.json');
    const statusFd = openSync(statusFile, 'wx', 0o600);
    let child: SandboxChild;
    let copies: number[] = [];
    try {
      copies = openCopies(copiedPaths(args));
      // Without node:child_process where Node's process handle is available (see raw-spawn.ts).
      // Out of the terminal's process group when the sandbox gets a session of its own, as the runner spawns it (see runner.ts).
      const detached = args.includes('--new-session');
      child = spawnRaw(remembered.bwrap, [remembered.bwrap, ...args], [0, 1, 2, statusFd], copies, detached)
        ?? process.getBuiltinModule('node:child_process').spawn(remembered.bwrap, args, {
          stdio: ['inherit', 'inherit', 'inherit', statusFd, 'pipe', ...(copies.length > 0 ? ['ignore' as const] : []), ...copies],
          env: {},
          detached,
        });
    } finally {
      closeSync(statusFd);
      closeCopies(copies);
    }
    child.on('error', () => undefined); // reported by the runner when it adopts this child; otherwise irrelevant
    return { file, early: { child, bwrap: remembered.bwrap, args, dirs, statusFile } };
  } catch {
    if (dirs !== undefined) removeRunDirs(dirs);
    return { file, early: null };
  }
}

/**
 * The early sandbox for this process's own command line, when it is `cordon run`
 * (`argv` is what follows the script): null when it is not a run, there is no
 * guess, or the attempt failed (no working directory any more, say: the run
 * reports that as usual).
 */
export function speculateRun(argv: readonly string[] = process.argv.slice(2)): Speculation | null {
  if (argv[0] !== 'run') return null;
  try {
    return speculate(speculationFile(process.cwd(), argv));
  } catch {
    return null;
  }
}

/** At most this many remembered command lines; beyond it the others are dropped (as the plan cache does). */
const MAX_REMEMBERED = 64;

/** Remembers the argv of this run for the next one (written atomically; a failure only costs time). */
export function remember(file: string, bwrap: string, args: readonly string[], base: string): void {
  try {
    // An argument holding the mark or a NUL could not be read back as it was: such a run is not remembered.
    if ([bwrap, ...args].some((a) => a.includes(BASE_MARK) || a.includes('\u0000'))) return;
    const dir = join(file, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    const fields = [MAGIC, bwrap, ...args.map((a) => a.split(base).join(BASE_MARK))];
    writeFileSync(tmp, `${fields.join('\u0000')}\u0000`, { mode: 0o600 });
    renameSync(tmp, file);
    const names = readdirSync(dir);
    // The JSON files of earlier versions are never read again.
    for (const n of names) if (n.startsWith('early-') && n.endsWith('.json')) rmSync(join(dir, n), { force: true });
    const entries = names.filter((n) => n.startsWith('early-') && n.endsWith('.bin'));
    if (entries.length > MAX_REMEMBERED) for (const n of entries) if (join(dir, n) !== file) rmSync(join(dir, n), { force: true });
  } catch {
    // a cache that cannot be written only costs time
  }
}

/** Children whose gate has been written (used or abandoned). */
const settled = new WeakSet<SandboxChild>();

/** A program that kills the command at its first system call: what an abandoned sandbox gets instead of the filter. */
const KILL_ALL = Buffer.from([0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80]); // BPF_RET|BPF_K SECCOMP_RET_KILL_PROCESS

/**
 * Writes `program` to the gate of a sandbox spawned with `--seccomp 4` on a
 * pipe and closes it: bwrap then loads it and starts the command.
 */
export function openGate(child: SandboxChild, program: Buffer): void {
  settled.add(child);
  // Not instanceof: run-loader.cjs and run.cjs each hold a copy of raw-spawn.ts, and the early child comes from the loader's.
  if (typeof (child as Partial<RawChild>).gate === 'function') {
    (child as RawChild).gate(program);
    return;
  }
  const s = (child as unknown as ChildProcess).stdio[SECCOMP_FD] as (NodeJS.WritableStream & { on: (e: 'error', f: () => void) => unknown; destroy: () => void }) | null | undefined;
  if (s === null || s === undefined) throw new Error('the sandbox has no gate');
  s.on('error', () => undefined); // a bwrap that already failed closed its end; its status says why
  s.end(program, () => s.destroy());
}

/**
 * The early sandbox will not be used: its command is killed before it starts.
 * With `removeDirs` (the run does not reuse them), its private directories are
 * removed once bwrap has exited; the promise says when.
 */
export function abandon(early: EarlySandbox, removeDirs: boolean): Promise<void> {
  try {
    openGate(early.child, KILL_ALL);
  } catch {
    early.child.kill('SIGKILL');
  }
  if (!removeDirs) return Promise.resolve();
  // bwrap uses the private directories until it has exited.
  return new Promise((resolve) => {
    const rm = (): void => {
      removeRunDirs(early.dirs);
      resolve();
    };
    if (early.child.exitCode !== null || early.child.signalCode !== null) rm();
    else {
      early.child.once('exit', rm);
      early.child.once('error', rm);
    }
  });
}

/** Abandons the early sandbox unless a runner has used or abandoned it already (then it also owns the directories). */
export function abandonIfPending(early: EarlySandbox | null): Promise<void> {
  return early !== null && !settled.has(early.child) ? abandon(early, true) : Promise.resolve();
}
