#!/usr/bin/env node
// The floor of any stdio gateway: a process that starts the server and
// passes bytes both ways unchanged (no framing, no parsing). bench/mcp/run.ts
// measures it beside cordon, so the cost of the extra process hop itself is
// seen apart from what cordon does per message.
import { spawn } from 'node:child_process';
import { setImmediate } from 'node:timers';

const [cmd, ...args] = process.argv.slice(2);
const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.on('data', (c) => child.stdin.write(c));
process.stdin.on('end', () => child.stdin.end());
child.stdout.on('data', (c) => process.stdout.write(c));
child.on('exit', (code) => setImmediate(() => process.exit(code ?? 0)));
