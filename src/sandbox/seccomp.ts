/**
 * The seccomp filter, generated in TypeScript as classic BPF (no libseccomp,
 * no prebuilt binary) and handed to bwrap with `--seccomp FD`.
 *
 * It refuses, with EPERM, what a coding agent never needs: new namespaces,
 * mounts, ptrace, io_uring, bpf, perf, kernel keyrings, module and kexec
 * loading, userfaultfd, packet and raw sockets, terminal injection (TIOCSTI,
 * TIOCLINUX) and non-default personalities. `clone3` gets ENOSYS because its
 * flags live in memory the filter cannot read; libc then falls back to
 * `clone`, whose flags register is checked.
 */
import { CordonError } from '../errors.js';
import { and, assemble, encode, type Item, jeq, jge, jset, label, ld, ret, type SockFilter } from './bpf.js';

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const EPERM = 1;
export const ENOSYS = 38;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const X32_SYSCALL_BIT = 0x40000000;

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. */
export const CLONE_NS_FLAGS = 0x7e020000;
/** The same plus CLONE_NEWTIME (0x80), which only `unshare` accepts (for `clone` the low byte is the exit signal). */
export const UNSHARE_NS_FLAGS = CLONE_NS_FLAGS | 0x80;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
export const SOCK_RAW = 3;
export const NETLINK_AUDIT = 9;
export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;
/** PER_LINUX, PER_LINUX32 and the query value 0xffffffff are the personalities allowed. */
export const ALLOWED_PERSONALITIES: readonly number[] = [0, 0x0008, 0xffffffff];

export type SeccompArch = 'x64' | 'arm64';

/** Syscalls that always get EPERM. */
export const DENIED_SYSCALLS = [
  'setns', 'mount', 'umount2', 'pivot_root', 'chroot', 'move_mount', 'open_tree', 'fsopen', 'fsmount', 'fsconfig',
  'fspick', 'mount_setattr', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'pidfd_getfd', 'io_uring_setup',
  'io_uring_enter', 'io_uring_register', 'bpf', 'perf_event_open', 'add_key', 'request_key', 'keyctl', 'kexec_load',
  'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'userfaultfd', 'open_by_handle_at',
  'name_to_handle_at', 'syslog', 'acct', 'swapon', 'swapoff', 'reboot', 'quotactl', 'lookup_dcookie', 'vhangup',
] as const;
type Special = 'clone' | 'clone3' | 'unshare' | 'socket' | 'ioctl' | 'personality';
export type SyscallName = (typeof DENIED_SYSCALLS)[number] | Special;

/** Syscall numbers per architecture (x86_64 from syscall_64.tbl, aarch64 from the generic unistd.h). */
export const SYSCALLS: Record<SeccompArch, Record<SyscallName, number>> = {
  x64: {
    clone: 56, clone3: 435, unshare: 272, socket: 41, ioctl: 16, personality: 135,
    setns: 308, mount: 165, umount2: 166, pivot_root: 155, chroot: 161, move_mount: 429, open_tree: 428, fsopen: 430,
    fsmount: 432, fsconfig: 431, fspick: 433, mount_setattr: 442, ptrace: 101, process_vm_readv: 310,
    process_vm_writev: 311, pidfd_getfd: 438, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, bpf: 321,
    perf_event_open: 298, add_key: 248, request_key: 249, keyctl: 250, kexec_load: 246, kexec_file_load: 320,
    init_module: 175, finit_module: 313, delete_module: 176, userfaultfd: 323, open_by_handle_at: 304,
    name_to_handle_at: 303, syslog: 103, acct: 163, swapon: 167, swapoff: 168, reboot: 169, quotactl: 179,
    lookup_dcookie: 212, vhangup: 153,
  },
  arm64: {
    clone: 220, clone3: 435, unshare: 97, socket: 198, ioctl: 29, personality: 92,
    setns: 268, mount: 40, umount2: 39, pivot_root: 41, chroot: 51, move_mount: 429, open_tree: 428, fsopen: 430,
    fsmount: 432, fsconfig: 431, fspick: 433, mount_setattr: 442, ptrace: 117, process_vm_readv: 270,
    process_vm_writev: 271, pidfd_getfd: 438, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, bpf: 280,
    perf_event_open: 241, add_key: 217, request_key: 218, keyctl: 219, kexec_load: 104, kexec_file_load: 294,
    init_module: 105, finit_module: 273, delete_module: 106, userfaultfd: 282, open_by_handle_at: 265,
    name_to_handle_at: 264, syslog: 116, acct: 89, swapon: 224, swapoff: 225, reboot: 142, quotactl: 60,
    lookup_dcookie: 18, vhangup: 58,
  },
};

const AUDIT_ARCH: Record<SeccompArch, number> = { x64: AUDIT_ARCH_X86_64, arm64: AUDIT_ARCH_AARCH64 };

/** `struct seccomp_data` offsets: nr, arch, then the low 32 bits of each argument (little-endian). */
const NR = 0;
const ARCH = 4;
const argLo = (i: number): number => 16 + 8 * i;

function supportedArch(arch: string): SeccompArch {
  if (arch === 'x64' || arch === 'arm64') return arch;
  throw new CordonError(
    'CORDON_SANDBOX_UNAVAILABLE',
    `cordon's seccomp filter supports x86_64 and aarch64 only, not ${arch}; run on one of those architectures`,
  );
}

/** The filter as symbolic BPF (exposed for tests and for `cordon doctor`). */
export function seccompProgram(arch: string = process.arch): SockFilter[] {
  const a = supportedArch(arch);
  const nr = SYSCALLS[a];
  const p: Item[] = [ld(ARCH), jeq(AUDIT_ARCH[a], 'native', 'kill'), label('native'), ld(NR)];
  if (a === 'x64') p.push(jge(X32_SYSCALL_BIT, 'eperm')); // x32 ABI: refuse every call
  for (const name of DENIED_SYSCALLS) p.push(jeq(nr[name], 'eperm'));
  p.push(
    jeq(nr.clone3, 'enosys'),
    jeq(nr.clone, 'clone'),
    jeq(nr.unshare, 'unshare'),
    jeq(nr.socket, 'socket'),
    jeq(nr.ioctl, 'ioctl'),
    jeq(nr.personality, 'personality'),
    ret(SECCOMP_RET_ALLOW),
    label('clone'),
    ld(argLo(0)),
    jset(CLONE_NS_FLAGS, 'eperm'),
    ret(SECCOMP_RET_ALLOW),
    label('unshare'),
    ld(argLo(0)),
    jset(UNSHARE_NS_FLAGS, 'eperm'),
    ret(SECCOMP_RET_ALLOW),
    label('socket'),
    ld(argLo(0)),
    jeq(AF_PACKET, 'eperm'),
    jeq(AF_NETLINK, 'netlink'),
    ld(argLo(1)),
    and(0xf), // SOCK_TYPE_MASK: strip SOCK_NONBLOCK / SOCK_CLOEXEC
    jeq(SOCK_RAW, 'eperm'),
    ret(SECCOMP_RET_ALLOW),
    label('netlink'), // netlink sockets are SOCK_RAW by nature (getifaddrs needs NETLINK_ROUTE)
    ld(argLo(2)),
    jeq(NETLINK_AUDIT, 'eperm'),
    ret(SECCOMP_RET_ALLOW),
    label('ioctl'),
    ld(argLo(1)), // the kernel reads the request as 32 bits: compare the low word only
    jeq(TIOCSTI, 'eperm'),
    jeq(TIOCLINUX, 'eperm'),
    ret(SECCOMP_RET_ALLOW),
    label('personality'),
    ld(argLo(0)),
  );
  for (const v of ALLOWED_PERSONALITIES) p.push(jeq(v, 'allow'));
  p.push(
    label('eperm'),
    ret(SECCOMP_RET_ERRNO | EPERM),
    label('enosys'),
    ret(SECCOMP_RET_ERRNO | ENOSYS),
    label('kill'),
    ret(SECCOMP_RET_KILL_PROCESS),
    label('allow'),
    ret(SECCOMP_RET_ALLOW),
  );
  return assemble(p);
}

/** The filter as the bytes of a `struct sock_filter[]`, ready for `bwrap --seccomp FD`. */
export function buildSeccompFilter(arch: string = process.arch): Buffer {
  return encode(seccompProgram(arch));
}
