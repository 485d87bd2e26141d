/**
 * Pure translation of a `SandboxSpec` into a bubblewrap argv. No file system
 * access: whatever needs looking at (which protected paths exist, whether a
 * hidden path is a file or a directory) is passed in `BwrapLayout`.
 */
import { COPIED_FILE_FD } from './copied-files.js';
import { HELPER_DEFERRED_CA_VAR, helperArgv, NET_IPC_FD } from './net-helper.js';
import { proxyEnvironment } from './proxy-env.js';
import type { SandboxSpec } from './spec.js';

/** Facts about the host file system, gathered by the runner before spawning. */
export interface BwrapLayout {
  /** Existing protected paths (absolute, inside the workspace), bound read-only onto themselves. */
  readonly protectedPaths?: readonly string[];
  /**
   * Directories bound read-write onto themselves so they become mount points:
   * a mount point cannot be renamed or removed (EBUSY), so `mv .git .gitx`
   * cannot detach `.git/hooks` from its name.
   */
  readonly pinnedDirs?: readonly string[];
  /** Hidden paths that exist, with their kind. Missing hidden paths need no mount. */
  readonly hiddenEntries?: readonly { readonly path: string; readonly kind: 'file' | 'dir' }[];
  /**
   * Read-only paths that are symbolic links on the host to a place inside another read-only path
   * (`/bin -> usr/bin`, `/etc/localtime`), with their link text: made as the same link inside
   * (no mount) instead of being bound (a mount per path: each costs bwrap ~0.2-0.5 ms).
   */
  readonly readOnlyLinks?: ReadonlyMap<string, string>;
  /**
   * Read-only paths that are small regular files of the system's configuration (`/etc/passwd`,
   * `/etc/ld.so.cache`): given to bwrap as copies (`--file FD`, fd `COPIED_FILE_FD + index`, opened by the
   * spawner), made in the sandbox's read-only root instead of being bound: a bind costs bwrap a mount and a
   * read of the mount table each, a copy a small write to its tmpfs.
   */
  readonly copiedFiles?: readonly string[];
}

/** The fd (in bwrap's table) of the first copied file (defined beside the copies, so the run loader need not load this module). */
export { COPIED_FILE_FD };

export interface BwrapOptions {
  /** Private home directory (host path, bound at the same path inside). */
  readonly home: string;
  /** Private temporary directory (host path, bound at the same path inside). */
  readonly tmp: string;
  /** File descriptor (in bwrap's fd table) holding the seccomp BPF program. */
  readonly seccompFd?: number;
  /** File descriptor bwrap writes its JSON status lines to (child pid, exit code). */
  readonly statusFd?: number;
  /**
   * Call setsid() before running the command (default true). A new session
   * has no controlling terminal, so TIOCSTI cannot push keystrokes into the
   * user's shell; the seccomp filter blocks TIOCSTI as well, which is why the
   * runner may turn this off for interactive agents on a TTY (see README.md).
   */
  readonly newSession?: boolean;
  readonly layout?: BwrapLayout;
  /**
   * Node binary visible inside the sandbox, for the network helper (required
   * with `network.mode: 'proxy'`; the IPC channel must be at fd NET_IPC_FD).
   */
  readonly nodePath?: string;
  /** Port of the MCP gateway's listener on 127.0.0.1 inside the sandbox (made by the network helper too). */
  readonly mcpPort?: number;
}

const XDG: readonly (readonly [string, string])[] = [
  ['XDG_CONFIG_HOME', '.config'],
  ['XDG_CACHE_HOME', '.cache'],
  ['XDG_DATA_HOME', '.local/share'],
  ['XDG_STATE_HOME', '.local/state'],
];

/** Build the argv (without the bwrap binary itself) that runs `argv` under `spec`. */
export function buildBwrapArgs(spec: SandboxSpec, opts: BwrapOptions, argv: readonly string[] = []): string[] {
  const a: string[] = [];
  const layout = opts.layout ?? {};
  a.push('--unshare-all'); // user, ipc, pid, net, uts, cgroup (try)
  // --unshare-all already gives a net namespace with loopback only, in both
  // modes; 'proxy' adds listeners inside it (created by the helper), no route.
  const net = spec.network;
  let command: readonly string[] = argv;
  const netEnv: Record<string, string> = {};
  switch (net.mode) {
    case 'none':
      // No egress, but an MCP gateway listener: the helper makes only that one.
      if (opts.mcpPort === undefined) break;
      if (opts.nodePath === undefined) throw new TypeError('an MCP listener needs opts.nodePath');
      command = helperArgv(opts.nodePath, 0, 0, argv, opts.mcpPort);
      Object.assign(netEnv, { NODE_CHANNEL_FD: String(NET_IPC_FD), NODE_CHANNEL_SERIALIZATION_MODE: 'json' });
      break;
    case 'proxy':
      if (opts.nodePath === undefined) throw new TypeError('network mode proxy needs opts.nodePath');
      command = helperArgv(opts.nodePath, net.httpPort, net.socksPort, argv, opts.mcpPort ?? 0);
      Object.assign(netEnv, proxyEnvironment(net.httpPort, net.socksPort), { NODE_CHANNEL_FD: String(NET_IPC_FD), NODE_CHANNEL_SERIALIZATION_MODE: 'json' });
      break;
  }
  a.push('--die-with-parent');
  if (opts.newSession !== false) a.push('--new-session');
  a.push('--hostname', 'cordon');
  a.push('--proc', '/proc', '--dev', '/dev');
  // /tmp is a fresh tmpfs first, so binds below it (workspace, private dirs) land on top.
  a.push('--tmpfs', '/tmp');
  const copied = layout.copiedFiles ?? [];
  for (const p of spec.readOnly) {
    const link = layout.readOnlyLinks?.get(p);
    const copy = copied.indexOf(p);
    if (link !== undefined) a.push('--symlink', link, p);
    else if (copy >= 0) a.push('--perms', '0444', '--file', String(COPIED_FILE_FD + copy), p);
    else a.push('--ro-bind-try', p, p);
  }
  for (const p of spec.readWrite) a.push('--bind-try', p, p);
  a.push('--bind', spec.workspace, spec.workspace);
  a.push('--bind', opts.home, opts.home);
  a.push('--bind', opts.tmp, opts.tmp);
  // Pins first (rw self-binds), then protected read-only binds on top of them.
  for (const d of layout.pinnedDirs ?? []) a.push('--bind', d, d);
  for (const p of layout.protectedPaths ?? []) a.push('--ro-bind', p, p);
  for (const h of layout.hiddenEntries ?? []) {
    if (h.kind === 'dir') a.push('--tmpfs', h.path, '--remount-ro', h.path);
    else a.push('--ro-bind', '/dev/null', h.path);
  }
  // Everything not bound read-write is read-only, including the tmpfs root
  // bwrap builds (so /var/spool/cron and friends cannot even be staged).
  a.push('--remount-ro', '/');
  if (opts.seccompFd !== undefined) a.push('--seccomp', String(opts.seccompFd));
  if (opts.statusFd !== undefined) a.push('--json-status-fd', String(opts.statusFd));
  a.push('--clearenv');
  const env: Record<string, string> = { ...spec.env, ...netEnv, HOME: opts.home, TMPDIR: opts.tmp };
  for (const [k, sub] of XDG) env[k] ??= `${opts.home}/${sub}`;
  // The helper (a node process) starts before the session CA is written: it must not try to load
  // it. It hands the variable back to the command under its own name.
  if (command !== argv && env['NODE_EXTRA_CA_CERTS'] !== undefined) {
    env[HELPER_DEFERRED_CA_VAR] = env['NODE_EXTRA_CA_CERTS'];
    delete env['NODE_EXTRA_CA_CERTS'];
  }
  for (const [k, v] of Object.entries(env)) a.push('--setenv', k, v);
  a.push('--chdir', spec.cwd);
  a.push('--');
  a.push(...command);
  return a;
}
