/** Every lab scenario, validated once. */
import { parseScenarios, type Scenario } from '../schema.js';
import { ACTION_SCENARIOS } from './actions.js';
import { BENIGN_SCENARIOS } from './benign.js';
import { DNS_SCENARIOS } from './dns.js';
import { ESCAPE_SCENARIOS } from './escape.js';
import { EXFIL_SCENARIOS } from './exfil.js';
import { MCP_SCENARIOS } from './mcp.js';
import { PERSISTENCE_SCENARIOS } from './persistence.js';
import { SECRET_SCENARIOS } from './secrets.js';
import { SSRF_SCENARIOS } from './ssrf.js';
import { TRICK_SCENARIOS } from './tricks.js';

export const ALL_SCENARIO_INPUTS = [
  ...SECRET_SCENARIOS, ...PERSISTENCE_SCENARIOS, ...EXFIL_SCENARIOS, ...DNS_SCENARIOS, ...SSRF_SCENARIOS,
  ...TRICK_SCENARIOS, ...MCP_SCENARIOS, ...ACTION_SCENARIOS, ...ESCAPE_SCENARIOS, ...BENIGN_SCENARIOS,
];

export function allScenarios(): Scenario[] {
  return parseScenarios(ALL_SCENARIO_INPUTS);
}
