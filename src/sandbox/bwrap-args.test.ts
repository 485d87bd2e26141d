import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildBwrapArgs } from './bwrap-args.js';
import { DEFAULT_PROTECTED_NAMES, parseSandboxSpec, type SandboxSpec } from './spec.js';

const spec: SandboxSpec = {
  workspace: '/w', readOnly: ['/usr'], readWrite: [], hidden: [], protectedNames: [...DEFAULT_PROTECTED_NAMES],
  env: { PATH: '/usr/bin', HOME: '/root' }, network: { mode: 'none' }, cwd: '/w/sub',
};

void test('argv: namespaces, binds, env, chdir, command last', () => {
  const a = buildBwrapArgs(spec, { home: '/p/home', tmp: '/p/tmp', seccompFd: 4, statusFd: 3, layout: {
    protectedPaths: ['/w/.git/hooks'], pinnedDirs: ['/w/.git'], hiddenEntries: [{ path: '/w/s.env', kind: 'file' }, { path: '/w/priv', kind: 'dir' }],
  } }, ['sh', '-c', 'x; y']);
  const s = a.join(' ');
  for (const f of ['--unshare-all', '--die-with-parent', '--new-session', '--clearenv', '--seccomp 4', '--json-status-fd 3', '--remount-ro /']) assert.ok(s.includes(f), f);
  assert.ok(s.indexOf('--tmpfs /tmp') < s.indexOf('--bind /w /w'));
  assert.ok(s.indexOf('--bind /w/.git /w/.git') < s.indexOf('--ro-bind /w/.git/hooks /w/.git/hooks'));
  assert.ok(s.includes('--ro-bind /dev/null /w/s.env'));
  assert.ok(s.includes('--tmpfs /w/priv --remount-ro /w/priv'));
  assert.ok(s.includes('--setenv HOME /p/home') && !s.includes('--setenv HOME /root'));
  assert.deepEqual(a.slice(-5), ['--chdir', '/w/sub', '--', 'sh', '-c', 'x; y'].slice(-5));
  assert.equal(a.at(-1), 'x; y');
});
void test('newSession false drops --new-session', () => {
  assert.ok(!buildBwrapArgs(spec, { home: '/h', tmp: '/t', newSession: false }).includes('--new-session'));
});
void test('spec schema rejects unknown keys and a cwd outside the workspace', () => {
  assert.throws(() => parseSandboxSpec({ ...spec, extra: 1 }));
  assert.throws(() => parseSandboxSpec({ ...spec, cwd: '/elsewhere' }), /inside the workspace/);
  assert.throws(() => parseSandboxSpec({ ...spec, protectedNames: ['../x'] }));
  assert.deepEqual(parseSandboxSpec(spec), spec);
});
void test('behind the network helper, NODE_EXTRA_CA_CERTS is handed over under another name (the helper starts before the session CA exists)', () => {
  const proxied: SandboxSpec = { ...spec, env: { ...spec.env, NODE_EXTRA_CA_CERTS: '/t/trust/session-ca.pem' }, network: { mode: 'proxy', httpPort: 3128, socksPort: 1080 } };
  const s = buildBwrapArgs(proxied, { home: '/h', tmp: '/t', nodePath: '/usr/bin/node' }, ['true']).join(' ');
  assert.ok(!s.includes('--setenv NODE_EXTRA_CA_CERTS'), s);
  assert.ok(s.includes('--setenv CORDON_HELPER_NODE_EXTRA_CA_CERTS /t/trust/session-ca.pem'));
  assert.ok(s.includes('env.NODE_EXTRA_CA_CERTS = env.CORDON_HELPER_NODE_EXTRA_CA_CERTS'), 'the helper restores it for the command');
  // Without the helper the command gets the variable as is.
  const direct = buildBwrapArgs({ ...spec, env: { ...spec.env, NODE_EXTRA_CA_CERTS: '/x.pem' } }, { home: '/h', tmp: '/t' }, ['true']).join(' ');
  assert.ok(direct.includes('--setenv NODE_EXTRA_CA_CERTS /x.pem'));
});
void test('a read-only path that is a link on the host is made as the same link, not bound', () => {
  const s = buildBwrapArgs({ ...spec, readOnly: ['/usr', '/bin'] }, { home: '/h', tmp: '/t', layout: { readOnlyLinks: new Map([['/bin', 'usr/bin']]) } }, ['true']).join(' ');
  assert.ok(s.includes('--symlink usr/bin /bin'), s);
  assert.ok(!s.includes('--ro-bind-try /bin /bin'));
  assert.ok(s.includes('--ro-bind-try /usr /usr'));
});
void test('small /etc files the layout names are copied (--file from fd 6 on, mode 0444), the other read-only paths bound', () => {
  const s = buildBwrapArgs(
    { ...spec, readOnly: ['/usr', '/etc/passwd', '/etc/ssl', '/etc/group'] },
    { home: '/h', tmp: '/t', layout: { copiedFiles: ['/etc/passwd', '/etc/group'] } },
    ['true'],
  ).join(' ');
  assert.ok(s.includes('--perms 0444 --file 6 /etc/passwd'), s);
  assert.ok(s.includes('--perms 0444 --file 7 /etc/group'), s);
  assert.ok(!s.includes('--ro-bind-try /etc/passwd'));
  assert.ok(s.includes('--ro-bind-try /etc/ssl /etc/ssl'));
  assert.ok(s.indexOf('--file 7 /etc/group') < s.indexOf('--remount-ro /'), 'the copies are made before the root is made read-only');
});
