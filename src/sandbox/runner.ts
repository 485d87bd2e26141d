/**
 * Runs one command under bubblewrap: private HOME/TMPDIR (0700, deleted at
 * exit), protected-path scan, seccomp program on an fd, bwrap spawned from an
 * argv array with an empty environment (its pid-1 copy inside the sandbox
 * would otherwise expose ours through /proc/1/environ), signal forwarding to
 * the sandboxed process group, then the final sweep.
 */
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { closeSync, lstatSync, readFileSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CordonError } from '../errors.js';
import { type BwrapLayout, buildBwrapArgs } from './bwrap-args.js';
import { handOffListeners, type ListenerSink, type McpListenerSink } from './net-handoff.js';
import { DEFAULT_SCAN_LIMITS, type ScanLimits, scanWorkspace, type WorkspaceScan } from './protect-scan.js';
import { sweep, type SweepContext, type Violation } from './protect-sweep.js';
import { findBwrap, resolveSandboxCommand } from './resolve.js';
import { buildSeccompFilter } from './seccomp.js';
import type { SandboxSpec } from './spec.js';
import { startWatcher } from './watcher.js';

export interface RunOptions {
  /** stdin/stdout/stderr for the command (default: inherit). */
  readonly stdio?: readonly ['inherit' | 'pipe' | 'ignore' | number, 'inherit' | 'pipe' | 'ignore' | number, 'inherit' | 'pipe' | 'ignore' | number];
  /** Aborting sends SIGTERM to the sandbox, then SIGKILL after 3 s. */
  readonly signal?: AbortSignal;
  /** Called for each refused creation or change of a protected path (during the run and at the final sweep). */
  readonly onViolation?: (v: Violation) => void;
  /** Explicit bwrap path (default: found on PATH). */
  readonly bwrapPath?: string;
  /** Where quarantined entries go (default: a new 0700 dir under the system temp dir). */
  readonly quarantineDir?: string;
  /** Set false to keep the sandbox in the caller's terminal session (TIOCSTI stays blocked by seccomp). */
  readonly newSession?: boolean;
  /** Inotify watcher during the run (default true). The final sweep always runs. */
  readonly watch?: boolean;
  readonly scanLimits?: ScanLimits;
  /** Skip the seccomp filter (tests and diagnosis only). */
  readonly seccomp?: boolean;
  /** Called with the spawned bwrap process, e.g. to read piped stdio. */
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
      out.push({ path: p, kind: lstatSync(p).isDirectory() ? 'dir' : 'file' });
    } catch {
      // absent: nothing to hide
    }
  }
  return out;
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
  return { protectedPaths, pinnedDirs, hiddenEntries: hiddenEntries(spec) };
}

/** Run `argv` inside the sandbox described by `spec`. Never throws for run failures: see `RunResult.error`. */
export async function runSandboxed(spec: SandboxSpec, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const violations: Violation[] = [];
  const report = (v: Violation): void => {
    violations.push(v);
    opts.onViolation?.(v);
  };
  const base = mkdtempSync(join(tmpdir(), 'cordon-'));
  const home = join(base, 'home');
  const tmp = join(base, 'tmp');
  let ownQuarantine = false;
  try {
    mkdirSync(home, { mode: 0o700 });
    mkdirSync(tmp, { mode: 0o700 });
    const bwrap = opts.bwrapPath ?? findBwrap();
    resolveSandboxCommand(spec, [home, tmp], argv[0] ?? '');
    const before = scanWorkspace(spec.workspace, spec.protectedNames, opts.scanLimits ?? DEFAULT_SCAN_LIMITS);
    let seccompFd: number | undefined;
    if (opts.seccomp !== false) {
      const f = join(base, 'seccomp.bpf');
      writeFileSync(f, buildSeccompFilter(), { mode: 0o600 });
      seccompFd = openSync(f, 'r');
      unlinkSync(f);
    }
    const proxied = spec.network.mode === 'proxy';
    const sink = opts.onNetworkListeners;
    if (proxied && sink === undefined) throw new CordonError('CORDON_INTERNAL', 'network mode proxy needs RunOptions.onNetworkListeners');
    const helper = proxied || opts.mcp !== undefined;
    const args = buildBwrapArgs(
      spec,
      { home, tmp, statusFd: 3, ...(seccompFd === undefined ? {} : { seccompFd: 4 }), newSession: opts.newSession !== false, layout: layoutFrom(before, spec), nodePath: process.execPath, ...(opts.mcp === undefined ? {} : { mcpPort: opts.mcp.port }) },
      argv,
    );
    const io = opts.stdio ?? ['inherit', 'inherit', 'inherit'];
    // bubblewrap's JSON status goes to a file of the run's private directory (no pipe, no stream to set up):
    // read for the sandbox's pid when a signal must be forwarded, and for the exit status at the end.
    const statusFile = join(base, 'status.json');
    const statusFd = openSync(statusFile, 'wx', 0o600);
    // With a proxy, fd 5 is the IPC channel the in-sandbox helper hands its listeners over (NET_IPC_FD).
    const stdio: StdioOptions = [...io, statusFd, seccompFd ?? 'ignore', ...(helper ? ['ipc' as const] : [])];
    let child: ChildProcess;
    try {
      child = spawn(bwrap, args, { stdio, env: {} });
    } finally {
      closeSync(statusFd);
      if (seccompFd !== undefined) closeSync(seccompFd);
    }
    opts.onSpawn?.(child);
    let netError: CordonError | undefined;
    if (helper) {
      handOffListeners(child, proxied ? sink : undefined, undefined, opts.mcp?.sink).catch((e: unknown) => {
        netError = e instanceof CordonError ? e : new CordonError('CORDON_EGRESS_PROXY', String(e));
        child.kill('SIGKILL');
      });
    }
    let quarantineDir = opts.quarantineDir;
    const ctx = (): SweepContext => {
      if (quarantineDir === undefined) {
        quarantineDir = mkdtempSync(join(tmpdir(), 'cordon-quarantine-'));
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
    const error = e instanceof CordonError ? e : new CordonError('CORDON_SANDBOX_FAILED', `sandbox failed: ${(e as Error).message}`, { cause: e });
    return { exitCode: EXIT_FOR[error.code] ?? 125, violations, error };
  } finally {
    try {
      opts.beforeCleanup?.({ home, tmp });
    } catch {
      // a failing import must not keep the private directories
    }
    rmSync(base, { recursive: true, force: true, maxRetries: 2 });
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
function supervise(child: ChildProcess, statusFile: string, opts: RunOptions): Promise<Status> {
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
