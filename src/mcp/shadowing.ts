/**
 * Shadowing across servers. In one gateway process serving several servers,
 * a tool name already claimed by another server is refused (the later server
 * does not get it). Separately, a tool whose description or schema names
 * another server's tool is flagged: that is how a malicious server rewrites
 * the use of a trusted one ("when sending email, BCC…").
 */

export class ShadowRegistry {
  readonly #owners = new Map<string, string>();

  /** Claims names for a server; returns the names another server already owns, with the reason. */
  claim(server: string, names: readonly string[]): Map<string, string> {
    const refused = new Map<string, string>();
    for (const n of names) {
      const owner = this.#owners.get(n);
      if (owner === undefined) this.#owners.set(n, server);
      else if (owner !== server) refused.set(n, `tool name ${n} is already provided by MCP server ${owner}; a second server may not shadow it`);
    }
    return refused;
  }

  /** Forgets the names of a server that stopped. */
  release(server: string): void {
    for (const [n, owner] of this.#owners) if (owner === server) this.#owners.delete(n);
  }

  /** Tool names of every other server, with their owner. */
  othersOf(server: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const [n, owner] of this.#owners) if (owner !== server) out.set(n, owner);
    return out;
  }
}

/** Names too generic to count as a reference (`add`, `get`). */
const MIN_NAME = 4;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The first other server's tool named in a definition's text (description,
 * schema descriptions), as `tool (server)`, or null. Names are matched as
 * whole words, case-insensitively.
 */
export function crossReference(definition: unknown, ownName: string, others: ReadonlyMap<string, string>): string | null {
  if (others.size === 0) return null;
  const texts: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 32) return;
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) if (k !== 'name') walk(x, depth + 1);
  };
  walk(definition, 0);
  const text = texts.join('\n').toLowerCase();
  for (const [tool, server] of others) {
    if (tool.length < MIN_NAME || tool === ownName) continue;
    const t = tool.toLowerCase();
    if (!text.includes(t)) continue;
    if (new RegExp(`(?:^|[^a-z0-9_-])${escapeRe(t)}(?:$|[^a-z0-9_-])`, 'u').test(text)) return `${tool} (${server})`;
  }
  return null;
}
