/**
 * The same scenarios under srt (npm `@anthropic-ai/sandbox-runtime`), for
 * the side-by-side figure, when `SRT_BIN` names its `srt`. Its most
 * restrictive documented configuration for the lab's world: reads of the lab
 * root (the fake home with ~/.ssh, ~/.aws, every other scenario) denied with
 * only the workspace re-allowed, `.env` files denied inside it, writes only
 * to the workspace, network only to the destinations cordon's lab policy
 * allows (by IP literal and port, and the CDN wildcard), no Unix sockets, no
 * local binding. srt has no MCP gateway and no approvals, so those classes
 * are n/a; it has no path rules either, so a scenario cordon stops with an
 * ask rule on an allowed host is judged the same way (its request arriving).
 */
import type { Scenario } from './schema.js';

/**
 * srt sets NO_PROXY for loopback and private ranges inside its sandbox, so
 * clients would dial the lab's 127.0.0.1 services directly (refused in its
 * network namespace) instead of through its proxy. The lab's services stand
 * for remote hosts, so the srt pass clears NO_PROXY first; without it every
 * benign task fails and attacks on the allowed host look contained when
 * they were only misrouted.
 */
export const SRT_PRELUDE = 'unset NO_PROXY no_proxy';

export function srtApplies(s: Scenario): string | undefined {
  if (s.class === 'mcp' || s.mcp !== undefined) return 'srt has no MCP gateway';
  if (s.class === 'approval' || s.approver !== undefined) return 'srt has no approval service';
  if (s.credential === true) return 'srt has no credential broker';
  return undefined;
}

export interface SrtWorld {
  readonly labRoot: string;
  readonly allowedPort: number;
  readonly plainPort: number;
}

/** The settings file (`srt --settings FILE`), per scenario. */
export function srtSettings(w: SrtWorld): string {
  return `${JSON.stringify({
    network: {
      allowedDomains: [`127.0.0.1:${w.allowedPort}`, `127.0.0.1:${w.plainPort}`, '*.cdn.lab.test'],
      deniedDomains: [],
      allowUnixSockets: [],
      allowLocalBinding: false,
    },
    filesystem: {
      denyRead: [w.labRoot, '**/.env', '**/.env.*'],
      allowRead: ['.'],
      allowWrite: ['.'],
      denyWrite: [],
    },
    enableWeakerNestedSandbox: false,
  }, null, 2)}\n`;
}
