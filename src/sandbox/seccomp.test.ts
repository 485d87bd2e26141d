import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BPF, decode, type SockFilter } from './bpf.js';
import {
  AUDIT_ARCH_AARCH64, AUDIT_ARCH_X86_64, buildSeccompFilter, DENIED_SYSCALLS, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS, seccompProgram, SYSCALLS,
} from './seccomp.js';

/** A tiny classic-BPF interpreter over `struct seccomp_data` (little-endian). */
function interpret(prog: readonly SockFilter[], nr: number, arch: number, args: readonly number[] = []): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr, 0);
  data.writeUInt32LE(arch >>> 0, 4);
  args.forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + 8 * i));
  let A = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const f = prog[pc];
    assert.ok(f !== undefined);
    switch (f.code) {
      case BPF.LD_W_ABS: A = data.readUInt32LE(f.k); break;
      case BPF.ALU_AND_K: A = (A & f.k) >>> 0; break;
      case BPF.JMP_JA: pc += f.k; break;
      case BPF.JEQ_K: pc += A === f.k ? f.jt : f.jf; break;
      case BPF.JGE_K: pc += A >= f.k ? f.jt : f.jf; break;
      case BPF.JSET_K: pc += (A & f.k) !== 0 ? f.jt : f.jf; break;
      case BPF.RET_K: return f.k;
      default: throw new Error(`unknown opcode ${f.code}`);
    }
  }
  throw new Error('fell off the end of the program');
}

const EPERM = SECCOMP_RET_ERRNO | 1;
for (const [arch, audit] of [['x64', AUDIT_ARCH_X86_64], ['arm64', AUDIT_ARCH_AARCH64]] as const) {
  const prog = decode(buildSeccompFilter(arch));
  const nr = SYSCALLS[arch];
  const run = (n: number, args: number[] = []): number => interpret(prog, n, audit, args);
  void test(`${arch}: round-trips through bytes`, () => assert.deepEqual(prog, seccompProgram(arch)));
  void test(`${arch}: every denied syscall gets EPERM`, () => {
    for (const s of DENIED_SYSCALLS) assert.equal(run(nr[s]), EPERM, s);
  });
  void test(`${arch}: ordinary syscalls pass`, () => {
    for (const n of [0, 1, 2, 3, 59, 60, 231]) if (!Object.values(nr).includes(n)) assert.equal(run(n), SECCOMP_RET_ALLOW, String(n));
  });
  void test(`${arch}: foreign architecture is killed`, () => assert.equal(interpret(prog, 0, 0x40000003), SECCOMP_RET_KILL_PROCESS));
  void test(`${arch}: clone3 gets ENOSYS, clone is checked for namespace flags`, () => {
    assert.equal(run(nr.clone3), SECCOMP_RET_ERRNO | 38);
    assert.equal(run(nr.clone, [0x003d0f00 | 17]), SECCOMP_RET_ALLOW); // pthread_create flags
    assert.equal(run(nr.clone, [17]), SECCOMP_RET_ALLOW); // fork
    for (const f of [0x10000000, 0x00020000, 0x40000000, 0x20000000, 0x04000000, 0x08000000, 0x02000000]) assert.equal(run(nr.clone, [f | 17]), EPERM);
  });
  void test(`${arch}: unshare with namespace flags is refused, CLONE_FS alone passes`, () => {
    assert.equal(run(nr.unshare, [0x10000000]), EPERM);
    assert.equal(run(nr.unshare, [0x80]), EPERM); // CLONE_NEWTIME
    assert.equal(run(nr.unshare, [0x200]), SECCOMP_RET_ALLOW);
  });
  void test(`${arch}: sockets`, () => {
    assert.equal(run(nr.socket, [2, 1, 0]), SECCOMP_RET_ALLOW); // AF_INET stream
    assert.equal(run(nr.socket, [1, 0x80001, 0]), SECCOMP_RET_ALLOW); // AF_UNIX | SOCK_CLOEXEC
    assert.equal(run(nr.socket, [2, 3, 1]), EPERM); // raw
    assert.equal(run(nr.socket, [10, 0x803, 1]), EPERM); // raw | NONBLOCK on AF_INET6
    assert.equal(run(nr.socket, [17, 2, 0]), EPERM); // AF_PACKET
    assert.equal(run(nr.socket, [16, 3, 0]), SECCOMP_RET_ALLOW); // NETLINK_ROUTE (getifaddrs)
    assert.equal(run(nr.socket, [16, 3, 9]), EPERM); // NETLINK_AUDIT
  });
  void test(`${arch}: TIOCSTI/TIOCLINUX refused even with high bits set`, () => {
    assert.equal(run(nr.ioctl, [0, 0x5412]), EPERM);
    assert.equal(run(nr.ioctl, [0, 0x100005412]), EPERM);
    assert.equal(run(nr.ioctl, [0, 0x541c]), EPERM);
    assert.equal(run(nr.ioctl, [0, 0x5401]), SECCOMP_RET_ALLOW); // TCGETS
  });
  void test(`${arch}: personality`, () => {
    assert.equal(run(nr.personality, [0xffffffff]), SECCOMP_RET_ALLOW);
    assert.equal(run(nr.personality, [0]), SECCOMP_RET_ALLOW);
    assert.equal(run(nr.personality, [0x0040000]), EPERM);
  });
}
void test('x64: the x32 ABI is refused', () => {
  const prog = seccompProgram('x64');
  assert.equal(interpret(prog, 0x40000000 + 2, AUDIT_ARCH_X86_64), EPERM);
});
void test('unsupported architectures are refused clearly', () => {
  assert.throws(() => buildSeccompFilter('riscv64'), /x86_64 and aarch64 only/);
});
