/**
 * agent-egress-bench through the real egress proxy: every case whose transport
 * is HTTP (fetch_proxy, http_proxy) or WebSocket is sent by a client through
 * `startProxy` (the same proxy code `cordon run` starts, with the real DLP
 * request scanner and TLS inspection) over real sockets, and the verdict is
 * read from both ends: what the client got, and what the upstream received.
 *
 * Usage: node --import tsx bench/egress/agent-bench.ts [--json] [--no-inspect] [--cases DIR]
 *   --json: the JSON document (per category, total, every case with its
 *   evidence and the proxy's decision records) on stdout, the table on stderr.
 *   --no-inspect: tunnels stay opaque (what TLS inspection buys).
 *   DIR defaults to ../shared/benchmarks/agent-egress-bench beside the repo
 *   (or $AGENT_EGRESS_BENCH).
 *
 * Setup, and why:
 * - Own network namespace. The runner re-executes itself under
 *   `unshare --net` (root) or `unshare --user --map-root-user --net`, so the
 *   only network is a private loopback: no packet can leave the machine, and
 *   the runner may listen on the ports the cases name (80, 443) and put the
 *   cases' IP literals (10.0.0.1, 169.254.169.254, ...) on that loopback.
 *   Without user or network namespaces the runner exits 2 and says so.
 * - Names. A custom `Resolver` answers every name with one public-looking
 *   address (UPSTREAM_V4) that exists only on the namespace's loopback, where
 *   the upstreams listen. Names are not mapped to 127.0.0.1: the proxy lets a
 *   name reach a private or loopback address only when a rule names that host
 *   exactly, so with loopback answers every block-expected name would be
 *   refused by the address check instead of by the protection the case is
 *   about, and every allow-expected name would need its own exact rule.
 * - Policy: `Net(*)`, nothing else: egress is open, so the score measures the
 *   proxy's DLP, SSRF and encoding protections, not the allowlist (cases
 *   tagged domain_blocklist are therefore not applicable).
 * - IP literals go to the proxy as written (`http://0x7f000001/admin`); the
 *   upstreams listen on the wildcard address of every port the cases use, and
 *   each literal's address is on the loopback, so a connection the proxy
 *   should not have made is counted, never lost.
 * - https:// and wss:// go through CONNECT with TLS inspection: the client
 *   trusts only the proxy's session CA; the upstreams present leaves from a
 *   second, bench-only CA that is the proxy's only upstream root.
 * - WebSocket frames are sent as listed (opcode, fin, rsv1, base64 payloads
 *   decoded), masked, after a plain upgrade (no extension offered).
 *
 * Verdicts: block = the proxy refused (403 with X-Cordon-Decision: deny, a
 * refused CONNECT, or a WebSocket close: 1008 for DLP, 1002/1009 for protocol
 * and limits) and the upstream did not receive the request, not even its head
 * (for WebSocket: not every frame, so the message that completes the secret
 * never arrived). Upstream connections opened without a request byte are
 * reported in the evidence (the proxy connects before a body is scanned); for
 * the IP-literal cases the test requires none at all. allow = the upstream
 * received the request (every frame) unchanged and, for HTTP, the client got
 * the upstream's answer; a leaked request counts as allow even if changed.
 * Anything else is an error. The proxy's decision records and the names it
 * resolved are kept per case in --json. Cases the proxy cannot decide (MCP, A2A, shell, inbound
 * response content) are counted per category as not applicable, with the
 * boundary that owns them. The applicability rule is the benchmark's own
 * (transport, `requires` and capability tags against a tool profile), see
 * agent-bench-cases.ts; no case id is special-cased.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const NETNS_ENV = 'CORDON_AGENT_BENCH_NETNS';
const args = process.argv.slice(2);

function reexecInNamespace(): never {
  const variants = process.getuid?.() === 0 ? [['--net'], ['--user', '--map-root-user', '--net']] : [['--user', '--map-root-user', '--net']];
  const flags = variants.find((v) => spawnSync('unshare', [...v, 'true'], { stdio: 'ignore' }).status === 0);
  if (flags === undefined) {
    process.stderr.write('agent-bench: needs `unshare --net` (root or unprivileged user namespaces) to run the proxy in a private network; not available here\n');
    process.exit(2);
  }
  const r = spawnSync('unshare', [...flags, '--', process.execPath, '--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.url), ...args], {
    stdio: 'inherit',
    env: { ...process.env, [NETNS_ENV]: '1' },
  });
  process.exit(r.status ?? 1);
}

if (process.env[NETNS_ENV] !== '1') reexecInNamespace();
const { main } = await import('./agent-bench-run.js');
await main();
