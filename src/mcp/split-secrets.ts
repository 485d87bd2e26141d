/** Secrets split over fields: the check lives in the DLP engine (`src/dlp/split-fields.ts`) so every boundary runs it; re-exported for the gateway's callers. */
export { findSplitSecrets, type SplitFinding } from '../dlp/split-fields.js';
