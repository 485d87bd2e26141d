/** What one gateway (one upstream server) is configured with. */
import type { ArgumentScanner } from './argument-scanner.js';
import type { AuditSink } from './audit.js';
import type { CallDecider } from './call-policy.js';
import type { InjectionAction } from './inbound.js';
import type { InjectionScanner } from './injection.js';
import type { JsonRpcId, Message } from './jsonrpc.js';
import type { GatewayLimits } from './limits.js';
import type { FirstUse } from './pin-check.js';
import type { Launch, PinStore } from './pin-store.js';
import type { ShadowRegistry } from './shadowing.js';

export interface GatewayOptions {
  /** The server's configured name: `mcp__<server>__<tool>` in rules. */
  readonly server: string;
  /** How it is launched (argv or URL): with the name, the key of its pins. */
  readonly launch: Launch;
  readonly policy: CallDecider;
  readonly scanner?: InjectionScanner;
  /** What flagged inbound text does (default `block`). */
  readonly injectionAction?: InjectionAction;
  /** Outbound argument scanners (DLP plugs in here); any finding refuses the call. */
  readonly argumentScanners?: readonly ArgumentScanner[];
  /** `report` passes calls with argument findings, recording them (default `block`). */
  readonly argumentAction?: 'block' | 'report';
  /** Pin storage; null keeps pins in memory only (tests, `--no-pins` is not offered). */
  readonly pins: PinStore | null;
  /** What happens on a server's first use (default `pin`: trust on first use, recorded). */
  readonly firstUse?: FirstUse;
  readonly shadow?: ShadowRegistry;
  readonly audit?: AuditSink;
  /**
   * False when decisions can no longer be recorded (the audit log failed):
   * calls (`tools/call`, `resources/read`, `prompts/get`) are then refused
   * with an error instead of forwarded unrecorded. Default: always ready.
   */
  readonly auditReady?: () => boolean;
  readonly limits?: Partial<GatewayLimits>;
  /** Diagnostics (stderr; stdout is the MCP stream). */
  readonly log?: (line: string) => void;
  readonly now?: () => Date;
  /** How long the gateway waits for its own `tools/list` (default 10 s). */
  readonly refreshTimeoutMs?: number;
}

/**
 * What a message to the client is, for transports that route by id (HTTP);
 * absent for notifications. `message`: the line already parsed, when it is
 * the peer's message forwarded unchanged (a transport that reads it need not
 * parse it again).
 */
export type ToClientInfo =
  | { readonly kind: 'response'; readonly id: JsonRpcId | null; readonly message?: Message }
  | { readonly kind: 'request'; readonly id: JsonRpcId; readonly message?: Message };

/** Where the gateway writes: one JSON-RPC message per call, without the newline. */
export interface GatewayPorts {
  toClient(line: string, info?: ToClientInfo): void;
  /** `message`: the line already parsed, when it is the client's message forwarded unchanged. */
  toServer(line: string, message?: Message): void;
}
