#!/usr/bin/env node
// Echo tools/call round trips over stdio with a client of its own (raw JSON
// lines, no SDK: less client noise than run.ts), several gateways side by
// side, one call per target per round in a shuffled order, and the CPU each
// target process used per call (/proc, the process itself, not its server).
// Targets run in a temporary workspace whose cordon.yaml allows
// mcp__everything__echo, with HOME and the state directory in it (as run.ts).
// Usage: node bench/mcp/raw.mjs N LABEL=[NODE_ARGS,]SCRIPT[,ARGS] ...
// each target gets `node SCRIPT ARGS... node server-everything stdio`; an
// empty target (`direct=`) is the server itself. Example:
//   node bench/mcp/raw.mjs 1000 direct= relay=bench/mcp/relay.mjs \
//     cordon=dist/bin/main.js,mcp,wrap,--name,everything,--no-sandbox,--
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const BASE = mkdtempSync(path.join(tmpdir(), 'cordon-mcp-raw-'));
const WS = path.join(BASE, 'ws');
mkdirSync(WS);
writeFileSync(path.join(WS, 'cordon.yaml'), 'version: 1\npermissions:\n  allow: [mcp__everything__echo]\n');
const ENV = { PATH: process.env.PATH ?? '', HOME: BASE, XDG_STATE_HOME: path.join(BASE, 'state'), CORDON_MANAGED_POLICY: path.join(BASE, 'none.yaml') };
const N = Number(process.argv[2] ?? 1000);
const WARMUP = 100;
const targets = process.argv.slice(3).map((s) => {
  const eq = s.indexOf('=');
  const rest = s.slice(eq + 1);
  return { label: s.slice(0, eq), argv: rest === '' ? [] : rest.split(',').map((a) => (a.endsWith('.js') || a.endsWith('.mjs') ? path.resolve(a) : a)) };
});

function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

const procs = targets.map((t) => {
  const argv = t.argv.length === 0 ? [EVERYTHING, 'stdio'] : [...t.argv, process.execPath, EVERYTHING, 'stdio'];
  const child = spawn(process.execPath, argv, { cwd: WS, env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
  // The last of its stderr, shown if the target dies (a target that died before answering used to hang the bench).
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { err = (err + d).slice(-2000); });
  let buf = '';
  let done = false;
  let waiter = null;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const m = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (waiter !== null && m.id === waiter.id) {
        const w = waiter;
        waiter = null;
        w.resolve(m);
      }
    }
  });
  child.once('exit', (c) => { if (!done) { console.error(`${t.label} exited (${c}) before the bench ended:\n${err}`); process.exit(1); } });
  const call = (id, method, params) => new Promise((resolve) => {
    waiter = { id, resolve };
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
  });
  return { ...t, child, call, times: [], finish: () => { done = true; } };
});

let id = 0;
for (const p of procs) {
  await p.call(++id, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } });
  p.child.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
  await p.call(++id, 'tools/list', {});
}
const echo = (p, i) => p.call(++id, 'tools/call', { name: 'echo', arguments: { message: `hello ${i}` } });
for (let i = 0; i < WARMUP; i++) for (const p of procs) await echo(p, i);
const cpu0 = procs.map((p) => cpuMs(p.child.pid));
const order = [...procs];
for (let i = 0; i < N; i++) {
  for (let k = order.length - 1; k > 0; k--) {
    const j = Math.floor(Math.random() * (k + 1));
    [order[k], order[j]] = [order[j], order[k]];
  }
  for (const p of order) {
    const t0 = process.hrtime.bigint();
    await echo(p, i);
    p.times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
const cpu1 = procs.map((p) => cpuMs(p.child.pid));
const pct = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(q * xs.length)];
const base = pct(procs[0].times, 0.5);
procs.forEach((p, k) => console.log(`${p.label.padEnd(12)} p50 ${pct(p.times, 0.5).toFixed(3)}  added ${(pct(p.times, 0.5) - base).toFixed(3)}  p90 ${pct(p.times, 0.9).toFixed(3)}  CPU per call ${(((cpu1[k] - cpu0[k]) * 1000) / N).toFixed(0)} us`));
for (const p of procs) {
  p.finish();
  p.child.stdin.end();
}
await Promise.race([Promise.all(procs.map((p) => new Promise((r) => p.child.once('exit', r)))), new Promise((r) => setTimeout(r, 5000))]);
rmSync(BASE, { recursive: true, force: true });
process.exit(0);
