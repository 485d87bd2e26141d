/**
 * Cloud metadata endpoints, as data with no code: the egress proxy never
 * connects to them and the policy's mandatory list denies them in every rule
 * scope. Kept apart from the address classifier so the policy's mandatory
 * list (loaded by every `cordon run`) does not load the classifier.
 */
export interface MetadataEndpoint {
  /** Canonical IP text or DNS name. */
  readonly host: string;
  readonly reason: string;
}

/** Always unreachable, whatever the rules say: these hand out cloud credentials. */
export const METADATA_ADDRESSES: readonly MetadataEndpoint[] = [
  { host: '169.254.169.254', reason: 'Instance metadata service (AWS, GCP, Azure, OCI, DigitalOcean, OpenStack...).' },
  { host: '169.254.170.2', reason: 'AWS ECS task metadata and credentials endpoint.' },
  { host: '169.254.170.23', reason: 'AWS EKS Pod Identity agent (credentials).' },
  { host: '100.100.100.200', reason: 'Alibaba Cloud instance metadata service.' },
  { host: '192.0.0.192', reason: 'Oracle Cloud (classic) instance metadata service.' },
  { host: '168.63.129.16', reason: 'Azure WireServer (host agent, extension configuration).' },
  { host: 'fd00:ec2::254', reason: 'AWS instance metadata service over IPv6.' },
  { host: 'fd00:ec2::23', reason: 'AWS EKS Pod Identity agent over IPv6 (credentials).' },
];

export const METADATA_NAMES: readonly MetadataEndpoint[] = [
  { host: 'metadata.google.internal', reason: 'GCP metadata server.' },
  { host: 'metadata.goog', reason: 'GCP metadata server.' },
  { host: 'metadata', reason: 'GCP metadata server short name (resolved through the search domain).' },
  { host: 'instance-data', reason: 'EC2 metadata short name.' },
  { host: 'instance-data.ec2.internal', reason: 'EC2 metadata name.' },
  { host: 'metadata.tencentyun.com', reason: 'Tencent Cloud metadata service.' },
];
