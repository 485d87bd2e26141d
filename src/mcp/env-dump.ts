/** Environment dumps: the check lives in the DLP engine (`src/dlp/env-dump.ts`) so every boundary runs it; re-exported for the gateway's callers. */
export { findEnvDump, findEnvJson, findEnvObject, isCredentialName, type EnvDumpFinding } from '../dlp/env-dump.js';
