/** Choosing scenarios: --quick, --filter (id, id prefix or class), and the Claude subset. */
import type { Scenario } from './schema.js';

export function selectScenarios(all: readonly Scenario[], o: { quick: boolean; filter: readonly string[]; claudeOnly: boolean }): Scenario[] {
  return all.filter((s) => {
    if (o.quick && !s.quick) return false;
    if (o.claudeOnly && s.claude === undefined) return false;
    if (o.filter.length === 0) return true;
    return o.filter.some((f) => s.id === f || s.class === f || s.id.startsWith(f));
  });
}
