/**
 * Lab scenarios are data: what the compromised agent runs (shell steps, and
 * optionally the same attack as Claude Code tool calls) and what success for
 * the attacker would look like. One schema validates every scenario file; the
 * runner never executes anything a scenario did not spell out as a step, and
 * steps only ever run inside `cordon run` (or the unsandboxed control).
 */
import { z } from 'zod';

export const CLASSES = [
  'secret-read', 'persistence', 'exfil', 'dns-exfil', 'ssrf', 'fronting', 'socks-parser',
  'mcp', 'approval', 'destructive', 'escape', 'benign',
] as const;
export type ScenarioClass = (typeof CLASSES)[number];

/** What a scenario needs beyond the sandbox; a missing one makes it "not applicable yet", never a pass. */
export const NEEDS = ['curl', 'python3', 'socat', 'git', 'npm', 'node', 'strace', 'gdb', 'perl', 'dlp-egress', 'mcp-cli', 'ipv6-lab', 'approvals'] as const;
export type Need = (typeof NEEDS)[number];

/** The lab's MCP servers (src/lab/mcp-server.ts), by mode. */
export const LAB_MCP_MODES = ['calc', 'poison', 'rugpull', 'mail', 'shadow', 'inject', 'snoop'] as const;
export type LabMcpMode = (typeof LAB_MCP_MODES)[number];

/** Services the lab runs; `collector` and `allowed` are per scenario, the rest are shared. */
export const SERVICES = ['collector', 'allowed', 'dns', 'metadata', 'internal'] as const;
export type ServiceName = (typeof SERVICES)[number];

const relPath = z.string().min(1).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a relative path without ..');

export const ConditionSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('canary').describe('A canary secret (any encoding the evidence detector knows) reached this place.'),
    where: z.enum(['collector', 'allowed', 'dns', 'output', 'mcp']).describe('A service, the lab\'s MCP servers (tool arguments, or what they read), or the agent\'s own output (the secret was read).'),
  }),
  z.strictObject({
    kind: z.literal('contact').describe('The service received any connection or byte at all.'),
    service: z.enum(['collector', 'metadata', 'internal']).describe('Which service.'),
  }),
  z.strictObject({
    kind: z.literal('request').describe('The allowed service received a request whose canonical path starts with the prefix.'),
    method: z.string().regex(/^([A-Z]+|\*)$/).describe('HTTP method, or * for any.'),
    pathPrefix: z.string().startsWith('/').describe('Prefix of the canonical path (percent-decoded, dot segments resolved, lower case).'),
    min: z.number().int().min(1).max(100).optional().describe('Only counts when at least this many such requests arrived (default 1): a replay shows as a second one.'),
    bodyContains: z.string().min(1).optional().describe('Only counts requests whose body contains this text.'),
  }),
  z.strictObject({
    kind: z.literal('mcp-arg').describe('One of the lab\'s MCP servers received a tool call whose arguments contain this text.'),
    contains: z.string().min(1).describe('Text looked for in the JSON of the arguments.'),
  }),
  z.strictObject({
    kind: z.literal('file').describe('A file exists on the host after the run (optionally containing a marker).'),
    base: z.enum(['workspace', 'home', 'lab']).describe('workspace, the fake host home, or the lab root (outside every sandbox).'),
    path: relPath.describe('Path below the base.'),
    contains: z.string().min(1).optional().describe('Only counts when the file contains this text.'),
    symlink: z.literal(true).optional().describe('Only counts when the path is a symbolic link (a plain file of that name is harmless).'),
  }),
  z.strictObject({
    kind: z.literal('output').describe('The agent\'s standard output matches this regular expression (multiline).'),
    pattern: z.string().min(1).describe('JavaScript regular expression source.'),
  }),
  z.strictObject({
    kind: z.literal('exit').describe('The sandboxed command exited with this status.'),
    code: z.number().int().min(0).max(255).describe('Exit status.'),
  }),
]);
export type Condition = z.infer<typeof ConditionSchema>;

export const ToolCallSchema = z.strictObject({
  name: z.enum(['Bash', 'Read', 'Write', 'Edit']).describe('Claude Code tool name.'),
  input: z.record(z.string(), z.unknown()).describe('Tool input; strings may use the same placeholders as steps.'),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

export const ScenarioSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/).describe('Stable id, kebab case, unique.'),
  class: z.enum(CLASSES).describe('Attack class, or benign.'),
  title: z.string().min(8).max(120).describe('One line: what the agent tries.'),
  steps: z.array(z.string().min(1)).min(1).max(20).describe('Shell commands run in order by `sh -c` inside the sandbox. Placeholders: @C@ collector host:port, @CP@ its port, @A@ allowed host:port (with path ask rules), @AP@ its port, @P@ a second allowed host:port with no path rules, @PP@ its port, @HOSTHOME@ the real (fake) home on the host, @LAB@ the lab root, @WS@ the workspace, @CORDON@ the host\'s bin/cordon.'),
  claude: z.array(ToolCallSchema).min(1).optional().describe('The same attack as Claude Code tool calls, for --agent claude.'),
  success: z.array(ConditionSchema).min(1).describe('Attack: any condition holding means the attacker succeeded. Benign: all must hold.'),
  stoppedBy: z.string().min(8).describe('The boundary expected to stop it (attack) or what must work (benign), shown when no record names one.'),
  mcp: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,30}$/), z.enum(LAB_MCP_MODES)).optional()
    .describe('MCP servers the policy configures for the run (name -> lab server mode); the agent reaches them only through cordon\'s gateway and may call every tool (mcp__NAME__*).'),
  approver: z.strictObject({
    approve: z.number().int().min(1).max(5).describe('How many pending approvals the lab\'s "person" approves, first come, before answering nothing more.'),
  }).optional().describe('A person who approves the first requests (outside the sandbox, over the approval socket); without one nobody answers and every ask ends as a deny at the TTL.'),
  credential: z.boolean().optional()
    .describe('The policy gives the agent a brokered credential, $LAB_API_TOKEN, for the allowed service: the sandbox holds a placeholder, cordon\'s broker adds the real value on the way out, and the allowed service\'s /api/secure accepts only the real value.'),
  needs: z.array(z.enum(NEEDS)).default([]).describe('Tools or cordon parts the scenario needs.'),
  shared: z.boolean().default(false).describe('Uses shared services (DNS, metadata, internal): run one at a time.'),
  quick: z.boolean().default(false).describe('Part of the quick subset (--quick, CI).'),
  timeoutMs: z.number().int().min(1000).max(120_000).default(30_000).describe('Whole-run timeout.'),
});
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Scenario = z.infer<typeof ScenarioSchema>;

export function isBenign(s: Scenario): boolean {
  return s.class === 'benign';
}

/** Validates a list (throws naming the scenario) and checks ids are unique. */
export function parseScenarios(list: readonly ScenarioInput[]): Scenario[] {
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const r = ScenarioSchema.safeParse(raw);
    if (!r.success) throw new Error(`scenario ${i} (${raw.id}): ${r.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    if (seen.has(r.data.id)) throw new Error(`scenario id ${r.data.id} is used twice`);
    seen.add(r.data.id);
    for (const c of r.data.success) {
      if (c.kind === 'output') new RegExp(c.pattern, 'm'); // throws on a bad pattern
    }
    return r.data;
  });
}
