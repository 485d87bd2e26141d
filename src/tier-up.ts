/**
 * V8 optimises a function once it has run enough bytecode since its last
 * check (the interrupt budget, 66 KiB by default). cordon's long-lived
 * processes that handle one small message at a time (the MCP gateways, the
 * egress proxy's keep-alive requests) lower it once they are serving. A stdio gateway handles
 * one small message at a time, so its per-message path (framing, parsing,
 * policy, the argument and result scanners, the audit record) ran in the
 * interpreter and baseline code for the first few thousand calls of a
 * session, which is most sessions: measured through `cordon mcp wrap`, the
 * first 1100 echo calls took 0.13-0.23 ms more each (p50) than with a
 * budget of 2-4 KiB (2 KiB: the same latency as 4, and 70-140 µs less CPU
 * per call over the first 1000). The budget is lowered once the gateway is
 * wired, so start-up code (run once) is not compiled for it (lowered at
 * process start, the wrapped server answered `initialize` ~150 ms later);
 * it is this process's flag only: a server cordon starts is another process.
 */
import { setFlagsFromString } from 'node:v8';

/** Bytes of bytecode a function runs between tier-up checks (V8's default: 67584). */
export const INTERRUPT_BUDGET = 2048;

let done = false;

/** Lowers V8's interrupt budget for this process (once: the first caller's budget stays). */
export function optimiseSooner(budget: number = INTERRUPT_BUDGET): void {
  if (done) return;
  done = true;
  setFlagsFromString(`--interrupt-budget=${Math.max(256, Math.floor(budget))}`);
}
