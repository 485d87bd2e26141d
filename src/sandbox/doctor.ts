/**
 * Host checks for `cordon doctor`: bubblewrap present and recent enough, user
 * and network namespaces usable, AppArmor's restriction on unprivileged user
 * namespaces (Ubuntu 23.10+), seccomp available. Each result says how to fix it.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { CordonError } from '../errors.js';
import { findBwrap } from './resolve.js';

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly fix?: string;
}

export interface DoctorOptions {
  /** PATH to search for bwrap (default: the process PATH). */
  readonly path?: string;
  /** Explicit bwrap binary, overriding the PATH search. */
  readonly bwrapPath?: string;
  /** Root of procfs, for tests. */
  readonly procRoot?: string;
}

/** `--json-status-fd`, which the runner needs to tell bwrap's failures from the command's, came in 0.5.0. */
export const MIN_BWRAP_VERSION: readonly [number, number, number] = [0, 5, 0];

const INSTALL = 'apt-get install -y bubblewrap   (Fedora: dnf install -y bubblewrap; Arch: pacman -S bubblewrap)';

function run(file: string, args: readonly string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 5000, env: {} }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, out: `${stdout}${stderr}`.trim() });
    });
  });
}

export function parseBwrapVersion(text: string): [number, number, number] | undefined {
  const m = /bubblewrap\s+(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (m === null) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function atLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    const a = v[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

async function readProc(root: string, rel: string): Promise<string | undefined> {
  try {
    return (await readFile(`${root}/${rel}`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

export async function checkHost(opts: DoctorOptions = {}): Promise<CheckResult[]> {
  const proc = opts.procRoot ?? '/proc';
  const results: CheckResult[] = [];
  let bwrap: string;
  try {
    bwrap = opts.bwrapPath ?? findBwrap(opts.path ?? process.env['PATH']);
  } catch (e) {
    const detail = e instanceof CordonError ? e.message : String(e);
    results.push({ name: 'bubblewrap', ok: false, detail, fix: INSTALL });
    return results;
  }
  const ver = await run(bwrap, ['--version']);
  const v = parseBwrapVersion(ver.out);
  if (v === undefined) {
    results.push({ name: 'bubblewrap', ok: false, detail: `${bwrap} --version printed ${JSON.stringify(ver.out)}`, fix: INSTALL });
    return results;
  }
  const okVer = atLeast(v, MIN_BWRAP_VERSION);
  results.push({
    name: 'bubblewrap',
    ok: okVer,
    detail: `${bwrap} version ${v.join('.')}${okVer ? '' : ` (need >= ${MIN_BWRAP_VERSION.join('.')})`}`,
    ...(okVer ? {} : { fix: `upgrade bubblewrap: ${INSTALL}` }),
  });
  const aa = await readProc(proc, 'sys/kernel/apparmor_restrict_unprivileged_userns');
  const userns = await run(bwrap, ['--unshare-user', '--ro-bind', '/', '/', 'true']);
  const aaFix =
    'create /etc/apparmor.d/bwrap with:  abi <abi/4.0>, include <tunables/global>  profile bwrap /usr/bin/bwrap flags=(unconfined) { userns, include if exists <local/bwrap> }' +
    '  then run: apparmor_parser -r /etc/apparmor.d/bwrap   (or, less narrowly: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0)';
  if (userns.code === 0) {
    results.push({ name: 'user namespaces', ok: true, detail: 'bwrap --unshare-user works' });
  } else {
    const fix =
      aa === '1'
        ? aaFix
        : 'enable unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1 (Debian <= 10) and sysctl -w user.max_user_namespaces=15000';
    results.push({ name: 'user namespaces', ok: false, detail: `bwrap --unshare-user failed: ${userns.out}`, fix });
  }
  results.push(
    aa === '1'
      ? {
          name: 'apparmor userns restriction',
          ok: userns.code === 0,
          detail: 'kernel.apparmor_restrict_unprivileged_userns=1' + (userns.code === 0 ? ' (bwrap is allowed by a profile)' : ''),
          ...(userns.code === 0 ? {} : { fix: aaFix }),
        }
      : { name: 'apparmor userns restriction', ok: true, detail: aa === undefined ? 'not present on this kernel' : `kernel.apparmor_restrict_unprivileged_userns=${aa}` },
  );
  const net = await run(bwrap, ['--unshare-user', '--unshare-net', '--ro-bind', '/', '/', 'true']);
  results.push(
    net.code === 0
      ? { name: 'network namespaces', ok: true, detail: 'bwrap --unshare-net works' }
      : { name: 'network namespaces', ok: false, detail: `bwrap --unshare-net failed: ${net.out}`, fix: 'enable CONFIG_NET_NS in the kernel, or allow unprivileged network namespaces' },
  );
  const status = await readProc(proc, 'self/status');
  const seccomp = status !== undefined && /^Seccomp:/m.test(status);
  results.push(
    seccomp
      ? { name: 'seccomp', ok: true, detail: 'the kernel supports seccomp filters' }
      : { name: 'seccomp', ok: false, detail: 'no Seccomp field in /proc/self/status', fix: 'use a kernel built with CONFIG_SECCOMP_FILTER=y' },
  );
  const arch = process.arch === 'x64' || process.arch === 'arm64';
  results.push({
    name: 'architecture',
    ok: arch,
    detail: `${process.arch}${arch ? '' : ': cordon generates seccomp filters for x86_64 and aarch64 only'}`,
    ...(arch ? {} : { fix: 'run cordon on x86_64 or aarch64' }),
  });
  return results;
}
