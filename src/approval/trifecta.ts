/**
 * The trifecta analysis of an effective policy: which of the three legs of
 * the "lethal trifecta" a session holds (untrusted input, private data,
 * external communication or state change), each explained by the rules
 * responsible. Only what the policy allows outright counts as held; what it
 * sends to a person first (`ask`) is listed as gated.
 */
import { z } from 'zod';
import { describeOrigin } from '../policy/engine.js';
import type { LoadedPolicy } from '../policy/load.js';
import { parseHttpPattern } from '../policy/match/http.js';
import type { RuleSpec } from '../policy/types.js';

export const LEG_IDS = ['untrusted-input', 'private-data', 'external-communication'] as const;
export type LegId = (typeof LEG_IDS)[number];

export const LegSchema = z.strictObject({
  id: z.enum(LEG_IDS),
  title: z.string().max(200),
  held: z.boolean(),
  /** Why the session holds it: one line per rule or setting. */
  because: z.array(z.string().max(4096)).max(1000),
  /** Rules that would give it only after a person approves each request. */
  gated: z.array(z.string().max(4096)).max(1000),
});
export const TrifectaSchema = z.strictObject({
  legs: z.array(LegSchema).length(3),
  all: z.boolean(),
  summary: z.string().max(1000),
});
export type Leg = z.infer<typeof LegSchema>;
export type Trifecta = z.infer<typeof TrifectaSchema>;

const TITLES: Record<LegId, string> = {
  'untrusted-input': 'untrusted input (content from outside reaches the agent)',
  'private-data': 'private data (secrets or credentials the agent can use or read)',
  'external-communication': 'external communication or state change (the agent can send data out or change something)',
};

/** Where credentials and secrets usually live: a read allow reaching one of these is private data. */
const SECRET_PLACE = /(^|\/)(\.ssh|\.aws|\.gnupg|\.kube|\.docker|\.azure|\.netrc|\.npmrc|\.pypirc|\.git-credentials|\.password-store|\.config\/(gh|gcloud|op)|\.env[^/]*|id_[a-z0-9]+|[^/]*\.(pem|key|p12|pfx)|[^/]*(secret|credential|token|passw)[^/]*)(\/|$)/i;
/** A read allow of a whole home directory or the whole filesystem. */
const WHOLE = /^(~|\/\/|\/\/home\/[^/]+|\/\/root)\/?(\*\*?)?$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function httpWrites(r: RuleSpec): boolean {
  if (r.specifier === null) return true;
  try {
    const p = parseHttpPattern(r.specifier, r.text);
    return p.methods === null || p.methods.some((m) => !SAFE_METHODS.has(m));
  } catch {
    return true;
  }
}

function privateRead(r: RuleSpec): boolean {
  const spec = r.specifier;
  if (spec === null) return true; // Read of everything
  return WHOLE.test(spec) || SECRET_PLACE.test(spec);
}

type Bucket = Record<LegId, { because: string[]; gated: string[] }>;

export function analyseTrifecta(policy: Pick<LoadedPolicy, 'rules' | 'settings'>): Trifecta {
  const b: Bucket = {
    'untrusted-input': { because: [], gated: [] },
    'private-data': { because: [], gated: [] },
    'external-communication': { because: [], gated: [] },
  };
  const add = (leg: LegId, r: RuleSpec, why: string): void => {
    if (r.effect === 'deny') return;
    b[leg][r.effect === 'allow' ? 'because' : 'gated'].push(`${describeOrigin(r)}: ${why}`);
  };
  for (const r of policy.rules) {
    if (r.effect === 'deny') continue;
    switch (r.kind) {
      case 'Net':
        add('untrusted-input', r, 'responses from this destination reach the agent');
        add('external-communication', r, 'the agent can send any data to this destination');
        break;
      case 'Http':
        add('untrusted-input', r, 'responses from this destination reach the agent');
        if (httpWrites(r)) add('external-communication', r, 'the agent can send requests that carry data or change state');
        break;
      case 'WebFetch':
        add('untrusted-input', r, 'fetched pages reach the agent');
        break;
      case 'Mcp':
        add('untrusted-input', r, 'tool results reach the agent');
        add('external-communication', r, 'the tool may send data out or change state');
        break;
      case 'Read':
        if (privateRead(r)) add('private-data', r, 'the agent can read where secrets and credentials are kept');
        break;
      case 'Edit':
      case 'Bash':
        break;
    }
  }
  for (const [name, c] of Object.entries(policy.settings.credentials ?? {})) {
    b['private-data'].because.push(`credentials.${name}: requests to ${c.hosts.join(', ')} are sent with the real credential`);
  }
  for (const [name, s] of Object.entries(policy.settings.mcp?.servers ?? {})) {
    b['untrusted-input'].because.push(`mcp.servers.${name}: the server's tool descriptions and results reach the agent`);
    if (s.env !== undefined && Object.keys(s.env).length > 0) {
      b['private-data'].because.push(`mcp.servers.${name}: the server is given environment variables (${Object.keys(s.env).join(', ')})`);
    }
  }
  const legs: Leg[] = LEG_IDS.map((id) => ({ id, title: TITLES[id], held: b[id].because.length > 0, because: b[id].because, gated: b[id].gated }));
  const held = legs.filter((l) => l.held);
  const all = held.length === 3;
  const summary = all
    ? 'This session holds all three legs of the lethal trifecta: a prompt injection could read private data and send it out. Narrow a leg, or make its rules ask.'
    : held.length === 0
      ? 'This session holds none of the three legs.'
      : `This session holds ${held.map((l) => l.id).join(' and ')}, not ${legs.filter((l) => !l.held).map((l) => l.id).join(' or ')}.`;
  return { legs, all, summary };
}

/** Plain text for `cordon doctor` and the refusal of an unattended run. */
export function formatTrifecta(t: Trifecta, show = (s: string): string => s): string {
  const out: string[] = [];
  for (const l of t.legs) {
    out.push(`${l.held ? 'HELD' : 'no  '} ${l.title}`);
    for (const w of l.because) out.push(`       because ${show(w)}`);
    for (const w of l.gated) out.push(`       gated (asks a person) ${show(w)}`);
  }
  out.push(t.summary);
  return `${out.join('\n')}\n`;
}
