/**
 * What this installation and host can run. A scenario whose needs are not
 * met is reported "not applicable yet: <what is missing>", counted and
 * listed, never passed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Need } from './schema.js';

export type Capabilities = Readonly<Record<Need, string | true>>;

const TOOL_DIRS = ['/usr/bin', '/bin', '/usr/local/bin'];

function tool(name: string, pkg: string): string | true {
  return TOOL_DIRS.some((d) => existsSync(path.join(d, name))) ? true : `${name} is not installed (apt-get install ${pkg})`;
}

/** The egress proxy process runs the DLP scanner only once it imports it; until then exfiltration to an allowed host cannot be judged. */
function dlpInProxy(distDir: string): string | true {
  const file = path.join(distDir, 'egress', 'proxy-process.js');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return `${file} is missing (npm run build)`;
  }
  return /from ['"]\.\.\/dlp\//.test(text) ? true : 'the egress proxy process does not run the DLP scanner yet (src/egress/proxy-process.ts passes no RequestScanner)';
}

function built(distDir: string, files: readonly string[], what: string): string | true {
  const missing = files.find((f) => !existsSync(path.join(distDir, f)));
  return missing === undefined ? true : `${what}: ${path.join(distDir, missing)} is missing (npm run build)`;
}

export function detectCapabilities(distDir: string, ipv6: boolean): Capabilities {
  return {
    curl: tool('curl', 'curl'),
    python3: tool('python3', 'python3'),
    socat: tool('socat', 'socat'),
    git: tool('git', 'git'),
    npm: tool('npm', 'npm'),
    node: tool('node', 'nodejs'),
    strace: tool('strace', 'strace'),
    gdb: tool('gdb', 'gdb'),
    perl: tool('perl', 'perl'),
    'dlp-egress': dlpInProxy(distDir),
    'mcp-cli': built(distDir, ['mcp/run/gateway-process.js', 'lab/mcp-server.js', 'lab/mcp-agent.js'], 'cordon run\'s MCP gateway or the lab\'s MCP server'),
    'ipv6-lab': ipv6 ? true : 'IPv6 addresses cannot be added in the lab network namespace',
    approvals: built(distDir, ['approval/session.js', 'approval/client.js'], 'the approval service'),
  };
}

export function unmet(needs: readonly Need[], caps: Capabilities): string | undefined {
  const missing = needs.map((n) => caps[n]).filter((v): v is string => v !== true);
  return missing.length === 0 ? undefined : missing.join('; ');
}
