/**
 * Canonical JSON (keys sorted at every level, no whitespace) and the SHA-256
 * pins built on it: one per tool over its full definition (name, title,
 * description, input and output schema, annotations and every other field),
 * one over the server manifest (server info, capabilities, instructions,
 * protocol version and the tool pins).
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  const obj = value as Record<string, unknown>;
  return `{${keys.filter((k) => obj[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function toolHash(definition: unknown): string {
  return sha256(canonicalJson(definition));
}

export interface Manifest {
  readonly protocolVersion: string | null;
  readonly serverInfo: unknown;
  readonly capabilities: unknown;
  readonly instructions: string | null;
}

export function manifestHash(m: Manifest): string {
  return sha256(canonicalJson(m));
}

/** Pretty JSON with sorted keys, for diffs. */
export function prettyCanonical(value: unknown): string {
  return JSON.stringify(JSON.parse(canonicalJson(value)), null, 2);
}
