/** Egress: host canonicalisation and special-purpose address classification. */
export {
  DEFAULT_PORTS,
  MAX_HOST_INPUT,
  MAX_URL_LENGTH,
  canonicalizeHost,
  formatAuthority,
  formatHost,
  hostFromUrl,
  isLoopbackName,
  parseAuthority,
} from './hostname.js';
export {
  METADATA_ADDRESSES,
  METADATA_NAMES,
  SPECIAL_RANGES,
  classifyAddress,
  isMetadataHost,
} from './ip-ranges.js';
export type { AddressClass, AddressRange, EmbedKind, MetadataEndpoint } from './ip-ranges.js';
export { startProxy } from './proxy-server.js';
export type { ListenOn, ListenerKind, ProxyOptions, RunningProxy } from './proxy-server.js';
export { DestinationGate, namesExactly } from './destination.js';
export type { DecidingPolicy, GateOptions, GateResult } from './destination.js';
export { DEFAULT_LIMITS } from './limits.js';
export type { ProxyLimits } from './limits.js';
export { NOOP_SCANNER } from './scanner.js';
export type { Finding, RequestScanner, ScanContext, ScanResult } from './scanner.js';
export { dnsServerResolver, systemResolver } from './resolver.js';
export type { ResolvedAddress, Resolver } from './resolver.js';
export type { Refusal, RefusalKind } from './refusal.js';
