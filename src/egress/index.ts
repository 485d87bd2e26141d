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
