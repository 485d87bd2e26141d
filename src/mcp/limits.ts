/**
 * Every bound of the MCP gateway in one place, each with its behaviour above
 * the limit (STYLE.md item 8).
 */
export interface GatewayLimits {
  /** Largest JSON-RPC message (one line) in bytes. Above it the line is discarded as it streams; a request gets a JSON-RPC error, anything else is dropped with a log line. */
  readonly maxMessageBytes: number;
  /** Requests awaiting a response, per direction. Above it a new request is refused with a JSON-RPC error. */
  readonly maxPending: number;
  /** Characters of text the injection scanner reads per message. Past it the message is refused (block) or passed with a warning (warn). */
  readonly maxScanChars: number;
  /** Tools per server kept by the pin checker; more are held back. */
  readonly maxTools: number;
  /** JSON nesting depth the gateway walks; deeper values are not scanned and count as a finding. */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxPending: 4096,
  maxScanChars: 32 * 1024 * 1024,
  maxTools: 2048,
  maxDepth: 64,
};
