/**
 * Constants of the decision record that the hot path needs without loading
 * the schema library (`record.ts` holds the zod schema, the source of truth;
 * `record-check.ts` is a dependency-free validator kept equal to it by tests).
 */

export const BOUNDARIES = ['egress', 'sandbox', 'mcp', 'hook', 'policy', 'approval', 'broker', 'supervisor'] as const;
export type Boundary = (typeof BOUNDARIES)[number];

/** `s_` followed by lowercase hex; the id also names the log file, so it can never contain a path separator. */
export const SESSION_ID_PATTERN = /^s_[0-9a-f]{4,64}$/;
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** `prev` of the first record of a chain. */
export const GENESIS_PREV = '0'.repeat(64);
