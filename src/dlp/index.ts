/**
 * The DLP engine's public surface, for the egress proxy, the MCP gateway, the
 * broker and `cordon scan`.
 */
export { DlpScanner, type ScannerOptions } from './scanner.js';
export { DetectionEngine, ALL_DETECTORS, type EngineOptions, type RawMatch } from './engine.js';
export { KnownSecretSet, FingerprintMatcher, encodedForms, type FingerprintMatcherData, type KnownHit } from './fingerprint.js';
export { StreamScanner, redactText, applyRedactions, redactionMark, type StreamOptions, type PushResult } from './stream.js';
export { createRequestScanner, type RequestScannerOptions } from './proxy-scanner.js';
export { scanMcpRequest } from './mcp.js';
export { scanUrl, scanHeaders, scanJsonValue, scanFields, formFields, multipartFields, jsonLeaves, type Field } from './structured.js';
export { inflateBounded, DEFAULT_DECODE_LIMITS, type DecodeLimits } from './decode.js';
export { scanBinary } from './binary.js';
export { CONFIDENCES, type Confidence, type DetectorSpec, type DlpFinding, type Location } from './types.js';
