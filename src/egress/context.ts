/** What every protocol handler of one proxy instance shares (no module-level state). */
import type { SecureContext, TLSSocket } from 'node:tls';
import type { CanonicalHost } from '../policy/types.js';
import type { DestinationGate } from './destination.js';
import type { ProxyLimits } from './limits.js';
import type { Refusal } from './refusal.js';
import type { RequestScanner, ScanContext, ScanResult } from './scanner.js';
import { NOOP_SCANNER } from './scanner.js';
import type { SessionCa } from './tls-ca.js';
import type { UpstreamPool } from './upstream-http.js';

/** One TLS-inspected tunnel: what every request inside it must match. */
export interface InspectedTunnel {
  readonly host: CanonicalHost;
  readonly port: number;
  /** `Net(host:port)` of the tunnel. */
  readonly subject: string;
}

/** TLS inspection of CONNECT (and SOCKS port 443) tunnels; absent: tunnels are opaque. */
export interface TlsInspection {
  readonly ca: SessionCa;
  /** Hosts whose tunnels are not inspected (certificate-pinned clients). */
  readonly passthrough: (host: CanonicalHost) => boolean;
  /** The roots (PEM) upstream servers are verified against. */
  readonly roots: string;
  /**
   * A TLS context verifying against `roots` (TLS 1.2 at least), made once on first use: giving `ca` to each
   * connection builds a new context from the whole root list every time (~50 ms of CPU here).
   */
  upstreamContext(): SecureContext;
  /** Serves one decrypted client stream with the proxy's inner HTTP server. */
  serve(socket: TLSSocket, tunnel: InspectedTunnel): void;
}

export interface ProxyContext {
  readonly gate: DestinationGate;
  readonly scanner: RequestScanner;
  readonly limits: ProxyLimits;
  /** The proxy's HTTP/1.1 client: keep-alive connections pooled per checked address (and SNI). */
  readonly pool: UpstreamPool;
  /** Open CONNECT and SOCKS tunnels (checked against `limits.maxTunnels`). */
  tunnels: number;
  /** Diagnostics to stderr (never to the agent). */
  readonly log: (line: string) => void;
  readonly tls?: TlsInspection;
}

/** Runs a scanner hook unless the scanner is the no-op one; a finding or a scanner failure is a refusal. */
export async function scan(ctx: ProxyContext, sc: ScanContext, run: (s: RequestScanner) => ScanResult | Promise<ScanResult>): Promise<Refusal | undefined> {
  if (ctx.scanner === NOOP_SCANNER) return undefined;
  let findings: ScanResult;
  try {
    findings = await run(ctx.scanner);
  } catch (e) {
    const r: Refusal = { kind: 'dlp', status: 403, subject: sc.subject, rule: 'dlp', reason: `The DLP scanner failed (${e instanceof Error ? e.message : 'error'}); refused rather than sent unscanned.`, mandatory: false };
    ctx.gate.record(r);
    return r;
  }
  if (findings.length === 0) return undefined;
  // Credential placeholders (src/broker/credential-scanner.ts) outside their header and hosts: named as what they are.
  const placeholders = [...new Set(findings.filter((f) => f.detector.startsWith('cordon-placeholder:')).map((f) => f.detector.slice('cordon-placeholder:'.length)))];
  const reason = placeholders.length > 0
    ? `Exfiltration attempt: the request carries the placeholder of credential ${placeholders.join(', ')} outside that credential's header and hosts (only the broker sends credentials, and only there); it was not sent.`
    : `The request carries ${findings.length === 1 ? 'a secret' : `${findings.length} secrets`} (DLP finding); it was not sent.`;
  const r: Refusal = { kind: 'dlp', status: 403, subject: sc.subject, rule: placeholders.length > 0 ? 'credential placeholder outside its hosts' : 'dlp', reason, mandatory: false, findings };
  ctx.gate.record(r);
  return r;
}
