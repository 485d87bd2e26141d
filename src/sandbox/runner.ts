/**
 * Runs one command under bubblewrap: private HOME/TMPDIR (0700, deleted at
 * exit), protected-path scan, seccomp program on an fd, bwrap spawned from an
 * argv array with an empty environment (its pid-1 copy inside the sandbox
 * would otherwise expose ours through /proc/1/environ), signal forwarding to
 * the sandboxed process group, then the final sweep.
 */
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { closeSync, lstatSync, readFileSync, readlinkSync, openSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CordonError } from '../errors.js';
import { type BwrapLayout, buildBwrapArgs } from './bwrap-args.js';
import type { ListDir } from './dir-listing.js';
import { closeCopies, copyable, fileSizeLimit, openCopies } from './copied-files.js';
import { abandon, type EarlySandbox, makeRunDirs, openGate, remember, removeRunDirs, type RunDirs, SECCOMP_FD, type Speculation, STATUS_FD } from './early.js';
import { handOffListeners, type ListenerSink, type McpListenerSink } from './net-handoff.js';
import { DEFAULT_SCAN_LIMITS, type ScanLimits, scanWorkspace, type WorkspaceScan } from './protect-scan.js';
import { sweep, type SweepContext, type Violation } from './protect-sweep.js';
import { newQuarantineDir } from './quarantine-dir.js';
import { findBwrap, resolveSandboxCommand } from './resolve.js';
import { buildSeccompFilter } from './seccomp.js';
import type { SandboxSpec } from './spec.js';
import { startWatcher } from './watcher.js';
import type { SandboxChild } from './raw-spawn.js';

export interface RunOptions {
  /** stdin/stdout/stderr for the command (default: inherit). */
  readonly stdio?: readonly ['inherit' | 'pipe' | 'ignore' | number, 'inherit' | 'pipe' | 'ignore' | number, 'inherit' | 'pipe' | 'ignore' | number];
  /** Aborting sends SIGTERM to the sandbox, then SIGKILL after 3 s. */
  readonly signal?: AbortSignal;
  /** Called for each refused creation or change of a protected path (during the run and at the final sweep). */
  readonly onViolation?: (v: Violation) => void;
  /** Explicit bwrap path (default: found on PATH). */
  readonly bwrapPath?: string;
  /** Where quarantined entries go (default: a new 0700 dir under `<state dir>/quarantine`, kept 30 days; see quarantine-dir.ts). */
  readonly quarantineDir?: string;
  /** Set false to keep the sandbox in the caller's terminal session (TIOCSTI stays blocked by seccomp). */
  readonly newSession?: boolean;
  /** Inotify watcher during the run (default true). The final sweep always runs. */
  readonly watch?: boolean;
  readonly scanLimits?: ScanLimits;
  /** How the scan before the run lists directories (a memo shared with realizePlan's walk; default: read each). */
  readonly listDir?: ListDir;
  /** Skip the seccomp filter (tests and diagnosis only). */
  readonly seccomp?: boolean;
  /**
   * Called with the bwrap process spawned here, e.g. to read piped stdio. Not
   * called when the run's early sandbox is used (see `speculation`: it was
   * spawned before, with inherited stdio only).
   */
  readonly onSpawn?: (child: ChildProcess) => void;
  /**
   * Required with `network.mode: 'proxy'`: receives the listening sockets
   * created inside the sandbox and resolves once the egress proxy serves them.
   * The command starts only after it resolved; a rejection ends the run (125).
   */
  readonly onNetworkListeners?: ListenerSink;
  /**
   * The MCP gateway's listener: made on 127.0.0.1:`port` inside the sandbox's
   * network namespace (in either network mode) and handed to `sink`; the
   * command starts only after it resolved.
   */
  readonly mcp?: { readonly port: number; readonly sink: McpListenerSink };
  /**
   * Called once the sandbox has ended, before its private HOME and TMPDIR are
   * deleted (for example to import what a tool inside left in its own state
   * directory). Everything there was written by the sandbox: treat it as untrusted.
   */
  readonly beforeCleanup?: (dirs: { readonly home: string; readonly tmp: string }) => void;
  /**
   * Called once bwrap is building the sandbox, before the command may start
   * (it waits for the seccomp program, which is written only after this
   * resolved): work that need not delay bwrap, such as opening the audit log.
   * A rejection ends the run before the command has started (125). Ignored
   * with `seccomp: false` (then it is called before spawning).
   */
  readonly beforeStart?: () => void | Promise<void>;
  /**
   * Called once, as soon as the command may start (the gate is open, or with
   * `seccomp: false` right after the spawn), before the run is supervised:
   * work that must not delay the start, such as the run's own audit record.
   * Not called when the run ends before that (the caller sees the error).
   */
  readonly afterGate?: () => void;
  /**
   * The run entry point's early sandbox (see early.ts): used when its argv is
   * exactly the one computed now, else abandoned; this run's argv is
   * remembered in `speculation.file` for the next run.
   */
  readonly speculation?: Speculation;
}

export interface RunResult {
  /** The command's status; 128+N when killed by signal N; 125/126/127 as documented. */
  readonly exitCode: number;
  readonly violations: Violation[];
  /** Set when cordon itself (not the command) failed; exitCode is then 125, 126 or 127. */
  readonly error?: CordonError;
  /** Host pid of the sandbox's pid 1, when it started. */
  readonly sandboxPid?: number;
}

/** Upper bound on self-bind mounts, so a pathological tree cannot make start-up slow. */
const MAX_PINS = 2000;

const EXIT_FOR: Partial<Record<CordonError['code'], number>> = {
  CORDON_SANDBOX_CMD_NOT_FOUND: 127,
  CORDON_SANDBOX_CMD_NOT_EXECUTABLE: 126,
};

function hiddenEntries(spec: SandboxSpec): NonNullable<BwrapLayout['hiddenEntries']> {
  const out: { path: string; kind: 'file' | 'dir' }[] = [];
  for (const p of spec.hidden) {
    try {
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (st !== undefined) out.push({ path: p, kind: st.isDirectory() ? 'dir' : 'file' });
    } catch {
      // unreadable: nothing to hide
    }
  }
  return out;
}

function within(p: string, root: string): boolean {
  return p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/**
 * One look at each read-only path: links on the host into another (non-link) read-only path are made as links,
 * not mounts; small regular files under /etc are copied (see `BwrapLayout.copiedFiles`), within the file size limit
 * bwrap inherits.
 */
function readOnlyLayout(spec: SandboxSpec): { readOnlyLinks: Map<string, string>; copiedFiles: string[] } {
  const links = new Map<string, string>();
  const copiedFiles: string[] = [];
  let limit: number | undefined;
  for (const p of spec.readOnly) {
    try {
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (st === undefined) continue;
      if (st.isSymbolicLink()) links.set(p, readlinkSync(p));
      else if (st.isFile() && p.startsWith('/etc/') && copyable(p, st, (limit ??= fileSizeLimit()))) copiedFiles.push(p);
    } catch {
      // unreadable: bound as before (bwrap skips what it cannot bind)
    }
  }
  for (const [p, text] of links) {
    const to = resolve(dirname(p), text);
    if (!spec.readOnly.some((r) => r !== p && !links.has(r) && within(to, r))) links.delete(p);
  }
  return { readOnlyLinks: links, copiedFiles };
}

function layoutFrom(scan: WorkspaceScan, spec: SandboxSpec): BwrapLayout {
  const protectedPaths: string[] = [];
  for (const [p, f] of scan.protectedPaths) if (f.kind === 'file' || f.kind === 'dir') protectedPaths.push(p);
  // Pin git dirs and every directory between the workspace and a protected
  // path: a mount point cannot be renamed (EBUSY), so `mv a a2` cannot move a
  // protected path away from its name. Cost: renames across a pin get EXDEV.
  const pins = new Set<string>();
  for (const p of [...protectedPaths, ...scan.gitDirs]) {
    for (let d = dirname(p); d.startsWith(spec.workspace + '/') && !pins.has(d); d = dirname(d)) pins.add(d);
  }
  for (const g of scan.gitDirs) pins.add(g);
  const pinnedDirs = [...pins].sort((a, b) => a.length - b.length).slice(0, MAX_PINS);
  return { protectedPaths, pinnedDirs, hiddenEntries: hiddenEntries(spec), ...readOnlyLayout(spec) };
}

/** Resolves once `child` has exited (at once if it has). */
function exited(child: SandboxChild): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
}

function sameArgs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Run `argv` inside the sandbox described by `spec`. Never throws for run failures: see `RunResult.error`.
 *
 * bwrap is spawned as soon as its argv is known; it builds the sandbox while the checks that need no mount run
 * here (command resolution, `beforeStart`, the seccomp program), and the command starts only once the program is
 * written to bwrap's seccomp fd (the gate). A failed check writes a program that kills the command before it starts.
 */
export async function runSandboxed(spec: SandboxSpec, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const violations: Violation[] = [];
  const report = (v: Violation): void => {
    violations.push(v);
    opts.onViolation?.(v);
  };
  let early: EarlySandbox | null = opts.speculation?.early ?? null;
  let dirs: RunDirs | undefined;
  let ownQuarantine = false;
  try {
    dirs = early?.dirs ?? makeRunDirs();
    const { base, home, tmp } = dirs;
    const bwrap = opts.bwrapPath ?? findBwrap();
    const gated = opts.seccomp !== false;
    if (!gated) {
      resolveSandboxCommand(spec, [home, tmp], argv[0] ?? '');
      await opts.beforeStart?.();
    }
    const before = scanWorkspace(spec.workspace, spec.protectedNames, opts.scanLimits ?? DEFAULT_SCAN_LIMITS, opts.listDir);
    const proxied = spec.network.mode === 'proxy';
    const sink = opts.onNetworkListeners;
    if (proxied && sink === undefined) throw new CordonError('CORDON_INTERNAL', 'network mode proxy needs RunOptions.onNetworkListeners');
    const helper = proxied || opts.mcp !== undefined;
    const layout = layoutFrom(before, spec);
    const args = buildBwrapArgs(
      spec,
      { home, tmp, statusFd: STATUS_FD, ...(gated ? { seccompFd: SECCOMP_FD } : {}), newSession: opts.newSession !== false, layout, nodePath: process.execPath, ...(opts.mcp === undefined ? {} : { mcpPort: opts.mcp.port }) },
      argv,
    );
    const io = opts.stdio ?? ['inherit', 'inherit', 'inherit'];
    // The early sandbox serves only a run it was spawned exactly for: same bwrap, same argv, inherited stdio, no helper.
    const adopt = early !== null && gated && !helper && io.every((x) => x === 'inherit') && early.bwrap === bwrap && sameArgs(early.args, args);
    let child: SandboxChild;
    let fresh: ChildProcess | undefined;
    let statusFile: string;
    if (adopt && early !== null) {
      child = early.child;
      statusFile = early.statusFile;
      early = null;
    } else {
      // bubblewrap's JSON status goes to a file of the run's private directory (no pipe, no stream to set up):
      // read for the sandbox's pid when a signal must be forwarded, and for the exit status at the end.
      statusFile = join(base, early === null ? 'status.json' : 'status-fresh.json');
      if (early !== null) void abandon(early, false);
      early = null;
      const statusFd = openSync(statusFile, 'wx', 0o600);
      let copies: number[] = [];
      try {
        copies = openCopies(layout.copiedFiles ?? []);
        // fd 4 is the gate (the seccomp program, written below); with a helper, fd 5 is the IPC channel it hands its listeners
        // over (NET_IPC_FD); the copied files follow from COPIED_FILE_FD.
        const fd5: ('ipc' | 'ignore')[] = helper ? ['ipc'] : copies.length > 0 ? ['ignore'] : [];
        const stdio: StdioOptions = [...io, statusFd, gated ? 'pipe' : 'ignore', ...fd5, ...copies];
        // Loaded here, not with this module: a run served by the early sandbox never needs node:child_process.
        // With a session of its own for the sandbox, bwrap itself leaves the terminal's process group too (setsid):
        // a Ctrl-C then reaches this process alone, which passes it to the sandbox's command (supervise), instead
        // of also killing bwrap, which took the command with it and left no exit status (125, "bubblewrap failed").
        fresh = process.getBuiltinModule('node:child_process').spawn(bwrap, args, { stdio, env: {}, detached: opts.newSession !== false });
        child = fresh;
      } finally {
        closeSync(statusFd);
        closeCopies(copies);
      }
    }
    if (fresh !== undefined) opts.onSpawn?.(fresh);
    if (gated) {
      // bwrap is building the sandbox; the command waits for the program.
      let program: Buffer;
      try {
        resolveSandboxCommand(spec, [home, tmp], argv[0] ?? '');
        await opts.beforeStart?.();
        program = buildSeccompFilter();
      } catch (e) {
        // The command never starts; bwrap still uses the private directories until it has exited.
        void abandon({ child, bwrap, args, dirs, statusFile }, false);
        await exited(child);
        throw e;
      }
      openGate(child, program);
      if (!adopt && !helper && opts.speculation !== undefined) remember(opts.speculation.file, bwrap, args, base);
    }
    opts.afterGate?.();
    let netError: CordonError | undefined;
    if (helper) {
      if (fresh === undefined) throw new CordonError('CORDON_INTERNAL', 'a sandbox with the network helper is always spawned fresh');
      handOffListeners(fresh, proxied ? sink : undefined, undefined, opts.mcp?.sink).catch((e: unknown) => {
        netError = e instanceof CordonError ? e : new CordonError('CORDON_EGRESS_PROXY', String(e));
        child.kill('SIGKILL');
      });
    }
    let quarantineDir = opts.quarantineDir;
    const ctx = (): SweepContext => {
      if (quarantineDir === undefined) {
        quarantineDir = newQuarantineDir();
        ownQuarantine = true;
      }
      return { workspace: spec.workspace, quarantineDir, allowedLinkRoots: spec.readOnly };
    };
    const lazyCtx: SweepContext = {
      workspace: spec.workspace,
      allowedLinkRoots: spec.readOnly,
      get quarantineDir() {
        return ctx().quarantineDir;
      },
    };
    const watcher = opts.watch === false ? undefined : startWatcher(lazyCtx, spec.protectedNames, before, report);
    const status = await supervise(child, statusFile, opts);
    watcher?.close();
    const after = scanWorkspace(spec.workspace, spec.protectedNames, opts.scanLimits ?? DEFAULT_SCAN_LIMITS);
    for (const v of sweep(lazyCtx, before, after)) report(v);
    if (ownQuarantine && violations.length === 0 && quarantineDir !== undefined) rmSync(quarantineDir, { recursive: true, force: true });
    if (netError !== undefined) return { exitCode: 125, violations, error: netError };
    if (status.exitCode === undefined) {
      const error = new CordonError('CORDON_SANDBOX_FAILED', `bubblewrap failed before starting the command (status ${status.raw}); see its message above`);
      return { exitCode: 125, violations, error };
    }
    return { exitCode: status.exitCode, violations, ...(status.pid === undefined ? {} : { sandboxPid: status.pid }) };
  } catch (e) {
    if (early !== null) {
      void abandon(early, false);
      await exited(early.child);
    }
    const error = e instanceof CordonError ? e : new CordonError('CORDON_SANDBOX_FAILED', `sandbox failed: ${(e as Error).message}`, { cause: e });
    return { exitCode: EXIT_FOR[error.code] ?? 125, violations, error };
  } finally {
    if (dirs !== undefined) {
      try {
        opts.beforeCleanup?.({ home: dirs.home, tmp: dirs.tmp });
      } catch {
        // a failing import must not keep the private directories
      }
      removeRunDirs(dirs);
    }
  }
}

interface Status {
  readonly exitCode: number | undefined;
  readonly pid: number | undefined;
  readonly raw: string;
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGWINCH'] as const;

/** bubblewrap's JSON status lines so far: the sandbox's pid once it started, the command's exit status once it ended. */
function readStatus(file: string): { pid: number | undefined; exitCode: number | undefined } {
  let raw = '';
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    // not written yet
  }
  let pid: number | undefined;
  let exitCode: number | undefined;
  for (const m of raw.matchAll(/"(child-pid|exit-code)"\s*:\s*(\d+)/g)) {
    if (m[1] === 'child-pid') pid = Number(m[2]);
    else exitCode = Number(m[2]);
  }
  return { pid, exitCode };
}

/** Wait for bwrap, forwarding signals to the sandbox's process group; its status file says what happened. */
function supervise(child: SandboxChild, statusFile: string, opts: RunOptions): Promise<Status> {
  return new Promise((resolveStatus) => {
    let pid: number | undefined;
    const send = (sig: NodeJS.Signals): void => {
      try {
        pid ??= readStatus(statusFile).pid;
        if (pid === undefined) child.kill(sig);
        else if (opts.newSession !== false) process.kill(-pid, sig); // setsid made the sandbox's pid 1 a group leader
        else for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ')) if (c !== '') process.kill(Number(c), sig);
      } catch {
        // already gone
      }
    };
    const handlers = FORWARDED.filter((s) => opts.newSession !== false || (s !== 'SIGINT' && s !== 'SIGWINCH' && s !== 'SIGQUIT')).map(
      (sig) => [sig, (): void => send(sig)] as const,
    );
    for (const [sig, h] of handlers) process.on(sig, h);
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      send('SIGTERM');
      killTimer = setTimeout(() => send('SIGKILL'), 3000);
      killTimer.unref();
    };
    if (opts.signal?.aborted === true) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let done = false;
    const finish = (raw: string): void => {
      if (done) return;
      done = true;
      for (const [sig, h] of handlers) process.off(sig, h);
      opts.signal?.removeEventListener('abort', onAbort);
      if (killTimer !== undefined) clearTimeout(killTimer);
      const st = readStatus(statusFile);
      resolveStatus({ exitCode: st.exitCode, pid: st.pid ?? pid, raw });
    };
    child.on('error', (e) => finish(e.message));
    child.on('close', (code, signal) => finish(signal ?? String(code)));
  });
}
