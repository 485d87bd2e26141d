/**
 * What the MCP gateway calls: the arguments of a `tools/call` request (each
 * string leaf with its JSON path, and the leaves joined for secrets split
 * across arguments).
 */
import type { DlpScanner } from './scanner.js';
import { scanJsonValue } from './structured.js';
import type { DlpFinding } from './types.js';

/** Scans one JSON-RPC message from the client; only `tools/call` arguments are outbound data. */
export function scanMcpRequest(scanner: DlpScanner, message: unknown): DlpFinding[] {
  if (typeof message !== 'object' || message === null) return [];
  const m = message as { method?: unknown; params?: unknown };
  if (m.method !== 'tools/call' || typeof m.params !== 'object' || m.params === null) return [];
  const p = m.params as { name?: unknown; arguments?: unknown };
  const tool = typeof p.name === 'string' ? p.name : 'tool';
  return scanJsonValue(scanner, p.arguments ?? {}, `args(${tool})`);
}
