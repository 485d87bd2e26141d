/** `cordon run` with network: a sandboxed process reaches an allowed loopback upstream only through the proxy. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cordon, cordonAsync } from '../cli-helpers.js';
import { httpUpstream, type Upstream } from './helpers.js';

const hasBwrap = ['/usr/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));
const hasCurl = existsSync('/usr/bin/curl');
const skip = !hasBwrap ? 'bubblewrap is not installed (apt-get install -y bubblewrap)' : !hasCurl ? 'curl is not installed (apt-get install -y curl)' : false;

function workspace(allowPort: number): { ws: string; env: NodeJS.ProcessEnv; state: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-egress-run-'));
  const ws = path.join(root, 'ws');
  mkdirSync(ws);
  writeFileSync(path.join(ws, 'cordon.yaml'), `version: 1\npermissions:\n  allow: ["Net(127.0.0.1:${allowPort})"]\n`);
  const state = path.join(root, 'state');
  return { ws, state, env: { XDG_STATE_HOME: state } };
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter((s) => s !== '').map(Number);
  } catch {
    return [];
  }
}

void describe('cordon run with the egress proxy', { skip }, () => {
  let allowed: Upstream;
  let denied: Upstream;
  before(async () => {
    allowed = await httpUpstream();
    denied = await httpUpstream();
  });
  after(async () => {
    await allowed.close();
    await denied.close();
  });

  void it('reaches the allowed upstream through the proxy, gets a 403 for the denied one, and has no other way out', async () => {
    const { ws, env, state } = workspace(allowed.port);
    const script = [
      `curl -s http://127.0.0.1:${allowed.port}/hello`,
      `curl -s -o /dev/null -w 'denied=%{http_code}\\n' http://127.0.0.1:${denied.port}/x`,
      `curl -s -m 3 --noproxy '*' http://127.0.0.1:${allowed.port}/direct; echo direct=$?`,
      'grep -q nameserver /etc/resolv.conf; echo resolv=$?',
      'getent hosts localhost.example >/dev/null; echo getent=$?',
      'echo "proxy=$HTTPS_PROXY socks=$ALL_PROXY no_proxy=[$NO_PROXY]"',
    ].join('; ');
    const r = await cordonAsync(['run', '--', 'sh', '-c', script], ws, env).done;
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ok GET \/hello$/m);
    assert.match(r.stdout, /^denied=403$/m);
    assert.match(r.stdout, /^direct=7$/m, 'no route to the host loopback from inside the sandbox');
    assert.match(r.stdout, /^resolv=[12]$/m, 'no resolver configuration inside');
    assert.match(r.stdout, /^getent=2$/m, 'no name resolution inside');
    assert.match(r.stdout, /^proxy=http:\/\/127\.0\.0\.1:3128 socks=socks5h:\/\/127\.0\.0\.1:1080 no_proxy=\[\]$/m);
    assert.equal(denied.connections, 0, 'the denied upstream saw nothing');
    assert.deepEqual(allowed.seen.filter((s) => s.includes('/direct')), []);
    const log = readdirSync(path.join(state, 'cordon')).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(path.join(state, 'cordon', f), 'utf8')).join('');
    assert.match(log, /"boundary":"egress","subject":"Http\(GET 127\.0\.0\.1:\d+\/hello\)","decision":"allow"/);
    assert.match(log, /"boundary":"egress","subject":"Http\(GET 127\.0\.0\.1:\d+\/x\)","decision":"deny"/);
    assert.match(r.stderr, /cordon: 1 action blocked/);
  });

  void it('starts no proxy when the policy allows no network', () => {
    const { ws, env } = workspace(allowed.port);
    writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\n');
    const r = cordon(['run', '--', 'sh', '-c', 'echo "[$HTTP_PROXY]"; test -e /proc/self/fd/5; echo fd5=$?'], { cwd: ws, env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\[\]$/m);
  });

  void it('fails closed when the proxy dies mid-run: no egress, the run ends with a clear message', async () => {
    const { ws, env } = workspace(allowed.port);
    const url = `http://127.0.0.1:${allowed.port}/`;
    const script = `trap 'curl -s -m 2 -o /dev/null -w "after=%{http_code}\\n" ${url}; exit 3' TERM; curl -s -o /dev/null -w 'before=%{http_code}\\n' ${url}; echo started; sleep 30 & wait`;
    const { child, done } = cordonAsync(['run', '--', 'sh', '-c', script], ws, env);
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const started = new Promise<void>((resolve) => child.stdout.on('data', () => {
      if (stdout.includes('started')) resolve();
    }));
    await Promise.race([started, done]);
    assert.match(stdout, /before=200/);
    const proxyPid = childrenOf(child.pid ?? 0).find((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('proxy-process'));
    assert.ok(proxyPid !== undefined, 'the proxy runs as its own process');
    const t0 = Date.now();
    process.kill(proxyPid, 'SIGKILL');
    const { status, stderr } = await done;
    assert.equal(status, 125);
    assert.ok(Date.now() - t0 < 8000, 'the run ends promptly');
    assert.match(stderr, /cordon: the egress proxy stopped during the run \(killed by SIGKILL\); the sandbox had no network from then on and the run was ended/);
    assert.match(stdout, /after=000/, 'after the proxy died, the sandbox had no egress');
  });
});
