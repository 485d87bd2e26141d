/**
 * The lab runs in a network namespace of its own (`unshare --net --mount`):
 * only loopback exists, so no attack and no bug can send a packet off this
 * machine. Inside it the lab adds the metadata and "internal" addresses to
 * loopback and points /etc/resolv.conf (in its own mount namespace) at the
 * DNS server it controls.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { INTERNAL_V4, METADATA_V4, METADATA_V6 } from './services.js';

/** argv that runs `cmd` in new network and mount namespaces (a user namespace too when not root). */
export function namespaceArgv(cmd: readonly string[]): string[] {
  const user = process.getuid?.() === 0 ? [] : ['--user', '--map-root-user'];
  return ['unshare', ...user, '--net', '--mount', '--propagation', 'private', '--', ...cmd];
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore', timeout: 10_000 });
}

/** Refuses unless only loopback exists (fail closed: the lab never runs on the host's network). */
export function assertIsolated(): void {
  // /proc/self/net/dev lists this process's network namespace (/sys may still show the host's).
  const ifaces = readFileSync('/proc/self/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0]?.trim() ?? '').filter((n) => n !== '');
  const others = ifaces.filter((i) => i !== 'lo');
  if (others.length > 0) throw new Error(`the lab must run in its own network namespace, but ${others.join(', ')} exist here; run it through cordon lab`);
}

export function setupLabNetwork(labRoot: string): { ipv6: boolean } {
  assertIsolated();
  ip('link', 'set', 'lo', 'up');
  for (const a of [...METADATA_V4, INTERNAL_V4]) ip('addr', 'add', `${a}/32`, 'dev', 'lo');
  let ipv6 = true;
  try {
    ip('-6', 'addr', 'add', `${METADATA_V6}/128`, 'dev', 'lo', 'nodad');
  } catch {
    ipv6 = false;
  }
  const resolv = path.join(labRoot, 'resolv.conf');
  writeFileSync(resolv, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  execFileSync('mount', ['--bind', resolv, '/etc/resolv.conf'], { stdio: 'ignore', timeout: 10_000 });
  return { ipv6 };
}
