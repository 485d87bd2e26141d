/**
 * Bounds on everything the proxy holds or waits for. Each limit says what
 * happens above it; all are enforced per connection or per request.
 */
export interface ProxyLimits {
  /** Request line plus headers (bytes). Above: 431 and the connection is closed. */
  readonly maxHeaderBytes: number;
  /** Request body bytes forwarded per request. Above: upstream request aborted; 413 if no response started, else the connection is cut. */
  readonly maxRequestBodyBytes: number;
  /**
   * With DLP on, a request body is held and scanned whole before any of it is
   * sent, so a finding anywhere in it means the upstream receives nothing.
   * Above this many bytes: 413, nothing is sent (large uploads to an allowed
   * host need a larger bound or DLP report mode).
   */
  readonly maxScannedBodyBytes: number;
  /** Response body bytes forwarded per request. Above: the client connection is cut (the response is incomplete, never silently truncated). */
  readonly maxResponseBodyBytes: number;
  /** No byte in either direction for this long (ms): the connection or tunnel is closed. */
  readonly idleTimeoutMs: number;
  /** Hard cap on one request's lifetime (ms), headers to last byte of response; tunnels included. */
  readonly totalTimeoutMs: number;
  /** Time to receive a complete request head (ms). Above: 408. */
  readonly headersTimeoutMs: number;
  /** Time to establish the upstream TCP connection (ms). Above: 504. */
  readonly connectTimeoutMs: number;
  /** Concurrent CONNECT and SOCKS tunnels. Above: 503 (HTTP) or SOCKS reply 0x01, nothing is connected. */
  readonly maxTunnels: number;
  /** Concurrent client connections on all listeners. Above: the new connection is closed at once. */
  readonly maxConnections: number;
  /** Bytes of an incomplete SOCKS5 handshake kept. Above: failure reply and close. */
  readonly maxSocksHandshakeBytes: number;
}

export const DEFAULT_LIMITS: ProxyLimits = {
  maxHeaderBytes: 32 * 1024,
  maxRequestBodyBytes: 1024 * 1024 * 1024,
  maxScannedBodyBytes: 64 * 1024 * 1024,
  maxResponseBodyBytes: 8 * 1024 * 1024 * 1024,
  idleTimeoutMs: 120_000,
  totalTimeoutMs: 60 * 60_000,
  headersTimeoutMs: 20_000,
  connectTimeoutMs: 10_000,
  maxTunnels: 512,
  maxConnections: 2048,
  maxSocksHandshakeBytes: 600,
};
