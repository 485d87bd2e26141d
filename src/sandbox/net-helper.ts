/**
 * The network helper that runs first inside a sandbox with `network.mode:
 * 'proxy'`. It creates the proxy listeners on 127.0.0.1 in the sandbox's own
 * network namespace, hands their file descriptors out over the IPC channel
 * bwrap inherited (fd `NET_IPC_FD`), waits until the supervisor confirms the
 * egress proxy serves them, closes its own copies (so the proxy process holds
 * the only ones: if the proxy dies, the ports refuse connections), closes the
 * channel, and only then starts the command, forwarding signals and its exit
 * status.
 *
 * It is plain CommonJS passed to `node -e`, so nothing has to be mounted.
 * argv after `--`: httpPort socksPort mcpPort command [args...]; a port of 0
 * is not opened (no egress proxy, or no MCP gateway listener).
 */

/** Where the helper keeps NODE_EXTRA_CA_CERTS for the command (the session CA is written after the helper started). */
export const HELPER_DEFERRED_CA_VAR = 'CORDON_HELPER_NODE_EXTRA_CA_CERTS';

/** The IPC channel's fd number inside the sandbox (after stdio 0-2, status fd 3, seccomp fd 4). */
export const NET_IPC_FD = 5;

export const NET_HELPER_SOURCE = String.raw`'use strict';
const net = require('node:net');
const { spawn } = require('node:child_process');
const [httpPort, socksPort, mcpPort, cmd, ...args] = process.argv.slice(1);
const fail = (why) => { process.stderr.write('cordon: network set-up inside the sandbox failed: ' + why + '\n'); process.exit(125); };
if (typeof process.send !== 'function') fail('no channel to the supervisor');
const open = (port) => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.once('error', reject);
  s.listen({ host: '127.0.0.1', port: Number(port), exclusive: true }, () => resolve(s));
});
const timer = setTimeout(() => fail('the supervisor did not answer'), 15000);
process.on('disconnect', () => fail('the supervisor went away'));
const wanted = [['http', httpPort], ['socks', socksPort], ['mcp', mcpPort]].filter(([, p]) => Number(p) !== 0);
Promise.all(wanted.map(([, p]) => open(p))).then((servers) => {
  process.on('message', (m) => {
    if (!m || m.cordon !== 'go') return;
    clearTimeout(timer);
    for (const s of servers) s.close();
    process.removeAllListeners('disconnect');
    process.disconnect();
    run();
  });
  servers.forEach((s, i) => process.send({ cordon: 'listener', kind: wanted[i][0] }, s));
}, (e) => fail(e.message));
function run() {
  const env = Object.assign({}, process.env);
  delete env.NODE_CHANNEL_FD;
  delete env.NODE_CHANNEL_SERIALIZATION_MODE;
  if (env.CORDON_HELPER_NODE_EXTRA_CA_CERTS !== undefined) {
    env.NODE_EXTRA_CA_CERTS = env.CORDON_HELPER_NODE_EXTRA_CA_CERTS;
    delete env.CORDON_HELPER_NODE_EXTRA_CA_CERTS;
  }
  const child = spawn(cmd, args, { stdio: 'inherit', env });
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => { try { child.kill(sig); } catch {} });
  for (const sig of ['SIGINT', 'SIGQUIT', 'SIGWINCH']) process.on(sig, () => {});
  child.on('error', (e) => { process.stderr.write('cordon: ' + cmd + ': ' + e.message + '\n'); process.exit(e.code === 'ENOENT' ? 127 : 126); });
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGWINCH']) process.removeAllListeners(sig);
      process.kill(process.pid, signal);
      setTimeout(() => process.exit(128), 1000);
      return;
    }
    process.exit(code === null ? 1 : code);
  });
}
`;

/** The argv that runs `argv` behind the helper (a port of 0: that listener is not made). */
export function helperArgv(node: string, httpPort: number, socksPort: number, argv: readonly string[], mcpPort = 0): string[] {
  return [node, '-e', NET_HELPER_SOURCE, '--', String(httpPort), String(socksPort), String(mcpPort), ...argv];
}
