/**
 * cordon's own work per echo `tools/call`, in process and without pipes:
 * the gateway core wired as `cordon mcp wrap` wires it (the workspace policy
 * with an allow rule, the injection and DLP argument scanners, an audit
 * writer subscribed with the same deferral), fed the client's request line
 * and the server's response line, as the stdio bridge feeds them. This is
 * the part of the stdio round trip that is not the process hop; the pipes
 * and wake-ups are measured by run.ts. Two figures:
 *   - hot: calls back to back (median of rounds, µs per call);
 *   - cold: 32 MB of memory is walked before each message, as the client,
 *     the server and other processes do between two messages in real use
 *     (the gateway then runs with cold caches and TLB: on the shared VM this
 *     costs several times the hot figure, and it is what run.ts sees). The
 *     request is timed to its forwarding (what the round trip waits for) and
 *     with its audit record; the response to its forwarding.
 * Usage: node --import tsx bench/mcp/percall.ts [CALLS] [COLD_CALLS]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newSessionId } from '../../src/audit/paths.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { dlpScanner } from '../../src/cli/mcp-cmd.js';
import { loadPolicyCached } from '../../src/policy/cache.js';
import { Policy } from '../../src/policy/policy.js';
import { injectionArgumentScanner } from '../../src/mcp/argument-scanner.js';
import { LineFramer } from '../../src/mcp/framing.js';
import { McpGateway } from '../../src/mcp/gateway.js';
import { InjectionScanner } from '../../src/mcp/injection.js';

const CALLS = Number(process.argv[2] ?? 20000);
const COLD_CALLS = Number(process.argv[3] ?? 400);
const ROUNDS = 7;

const base = mkdtempSync(path.join(tmpdir(), 'cordon-mcp-percall-'));
const ws = path.join(base, 'ws');
mkdirSync(ws);
writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\npermissions:\n  allow: [mcp__everything__echo]\n');
process.env['CORDON_MANAGED_POLICY'] = path.join(base, 'none.yaml');
process.env['HOME'] = base;
process.env['XDG_STATE_HOME'] = path.join(base, 'state');

const loaded = await loadPolicyCached({ workspace: ws, files: [] });
const policy = new Policy(loaded);
const writer = AuditWriter.open({ dir: path.join(base, 'audit'), session: newSessionId(), deferMs: 10 });
const unsubscribe = writer.subscribe();
const scanner = new InjectionScanner();
let out = 0;
let forwardedAt = 0n;
const gw = new McpGateway({
  server: 'everything', launch: ['x'], policy, scanner, injectionAction: 'block', pins: null,
  argumentScanners: [injectionArgumentScanner(scanner), await dlpScanner(loaded)], auditReady: () => writer.healthy, log: () => undefined,
}, { toClient: (l) => { out += l.length; }, toServer: (l) => { out += l.length; forwardedAt = process.hrtime.bigint(); } });

const toolsList = '{"jsonrpc":"2.0","id":"l","result":{"tools":[{"name":"echo","description":"Echoes back the input","inputSchema":{"type":"object","properties":{"message":{"type":"string","description":"Message to echo"}},"required":["message"]}}]}}';
gw.fromClient({ kind: 'line', text: '{"jsonrpc":"2.0","id":"l","method":"tools/list"}' });
gw.fromServer({ kind: 'line', text: toolsList });

const fromClient = new LineFramer(16 * 1024 * 1024);
const fromServer = new LineFramer(16 * 1024 * 1024);
const request = (i: number): Buffer => Buffer.from(`{"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello ${i}"}},"jsonrpc":"2.0","id":${i}}\n`);
const response = (i: number): Buffer => Buffer.from(`{"result":{"content":[{"type":"text","text":"Echo: hello ${i}"}]},"jsonrpc":"2.0","id":${i}}\n`);

function round(first: number): number {
  const reqs = Array.from({ length: CALLS }, (_, i) => request(first + i));
  const resps = Array.from({ length: CALLS }, (_, i) => response(first + i));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) {
    for (const ev of fromClient.push(reqs[i]!)) gw.fromClient(ev);
    for (const ev of fromServer.push(resps[i]!)) gw.fromServer(ev);
  }
  return Number(process.hrtime.bigint() - t0) / 1e3 / CALLS;
}

const times: number[] = [];
for (let r = 0; r < ROUNDS + 1; r++) {
  const us = round(1000 + r * CALLS);
  if (r > 0) times.push(us);
  // Let the deferred audit batch go out between rounds, as it does between calls.
  await new Promise((res) => setTimeout(res, 20));
}
times.sort((a, b) => a - b);
console.log(`hot: cordon's work per echo tools/call (request + response through the core, audit on), ${CALLS} calls x ${ROUNDS} rounds: median ${times[ROUNDS >> 1]!.toFixed(2)} us (min ${times[0]!.toFixed(2)}, max ${times[ROUNDS - 1]!.toFixed(2)})${out > 0 ? '' : ' NOTHING FORWARDED'}`);

const junk = new Float64Array(4 << 20);
const thrash = (): void => {
  for (let i = 0; i < junk.length; i += 8) junk[i]! += 1;
};
const toForward: number[] = [];
const withAudit: number[] = [];
const back: number[] = [];
for (let i = 0; i < COLD_CALLS + 50; i++) {
  const id = 1_000_000 + i;
  const req = request(id);
  const resp = response(id);
  thrash();
  const t0 = process.hrtime.bigint();
  for (const ev of fromClient.push(req)) gw.fromClient(ev);
  const t1 = process.hrtime.bigint();
  const t2 = forwardedAt;
  thrash();
  const t3 = process.hrtime.bigint();
  for (const ev of fromServer.push(resp)) gw.fromServer(ev);
  const t4 = process.hrtime.bigint();
  if (i >= 50) {
    toForward.push(Number(t2 - t0) / 1e3);
    withAudit.push(Number(t1 - t0) / 1e3);
    back.push(Number(t4 - t3) / 1e3);
  }
  // The deferred audit batch goes out between messages, as in real use.
  if (i % 8 === 0) await new Promise((res) => setTimeout(res, 0));
}
const med = (xs: number[]): string => [...xs].sort((a, b) => a - b)[xs.length >> 1]!.toFixed(1);
console.log(`cold: request to its forwarding ${med(toForward)} us (with its audit record ${med(withAudit)} us), response ${med(back)} us; medians of ${COLD_CALLS}`);
console.log(`audit records: ${writer.counts().allow} allow, ${writer.counts().deny} deny`);
unsubscribe();
writer.close();
rmSync(base, { recursive: true, force: true });
