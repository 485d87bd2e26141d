/**
 * The one schema for cordon policy files. Types are derived from it, the JSON
 * Schema in `schema/policy.schema.json` is generated from it, and every field
 * carries a description that becomes the documentation.
 */
import { z } from 'zod';

const MAX_RULE_LENGTH = 4096;
const MAX_RULES = 10_000;

export const ARG_MATCHER_SCHEMA = z
  .strictObject({
    equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional()
      .describe('The value at this path equals this JSON value exactly.'),
    glob: z.string().max(MAX_RULE_LENGTH).optional()
      .describe('The string at this path matches this glob (`*` within a segment, `**` across `/`).'),
    regex: z.string().max(MAX_RULE_LENGTH).optional()
      .describe('The string at this path matches this regular expression (JavaScript syntax, unanchored).'),
    min: z.number().optional().describe('The number at this path is at least this.'),
    max: z.number().optional().describe('The number at this path is at most this.'),
    outside_workspace: z.literal(true).optional()
      .describe('The string (or any string in the array) at this path is a filesystem path outside the workspace.'),
    exists: z.literal(true).optional().describe('The path is present in the arguments.'),
  })
  .describe('Conditions on one argument; all given conditions must hold.');

export const RULE_ENTRY_SCHEMA = z.union([
  z.string().min(1).max(MAX_RULE_LENGTH)
    .describe('A rule: `Read(path)`, `Edit(path)`, `Bash(command)`, `Net(host[:port])`, `Http(METHOD host/path)`, `WebFetch(domain:host)` or `mcp__server__tool`.'),
  z.strictObject({
    rule: z.string().min(1).max(MAX_RULE_LENGTH).describe('An `mcp__server__tool` rule (tool may be a glob).'),
    args: z.record(z.string().min(1).max(256), ARG_MATCHER_SCHEMA).optional()
      .describe('Argument matchers keyed by JSON path (`path`, `options.recursive`, `files[0]`); all must match.'),
    reason: z.string().max(500).optional().describe('Shown with every decision this rule makes.'),
  }).describe('A rule with argument matchers or a reason.'),
]);

const RULE_LIST = z.array(RULE_ENTRY_SCHEMA).max(MAX_RULES);

export const PERMISSIONS_SCHEMA = z.strictObject({
  deny: RULE_LIST.optional().describe('Rules that block. A deny from any scope wins.'),
  ask: RULE_LIST.optional().describe('Rules that need a fresh human approval for each exact request.'),
  allow: RULE_LIST.optional().describe('Rules that allow without asking, unless a deny or ask rule also matches.'),
}).describe('Evaluated deny, then ask, then allow; the first match decides; specificity does not reorder.');

const DURATION = z.string().regex(/^[1-9][0-9]{0,5}(ms|s|m)$/, 'a duration such as `120s`, `2m` or `500ms`');

export const POLICY_SCHEMA = z.strictObject({
  $schema: z.string().optional().describe('Editor hint; ignored.'),
  version: z.literal(1).describe('Policy format version; must be 1.'),
  extends: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).max(8).optional()
    .describe('Built-in profiles this policy builds on. Omitted means `[default]`; `[]` starts from nothing.'),
  lockdown: z.boolean().optional()
    .describe('Managed scope only: ignore allow and ask rules from every lower scope (their deny rules still apply).'),
  mandatory: z.strictObject({
    deny: RULE_LIST.optional().describe('Extra mandatory denies: no scope and no approval can lift them.'),
    instruction_files: z.array(z.string().min(1).max(256)).max(100).optional()
      .describe('Agent instruction files protected from writes at every depth (default CLAUDE.md, AGENTS.md, GEMINI.md...).'),
  }).optional().describe('Managed scope only: protections added to the built-in mandatory list.'),
  permissions: PERMISSIONS_SCHEMA.optional(),
  dlp: z.strictObject({
    action: z.enum(['block', 'redact', 'report']).optional()
      .describe('What a DLP finding does to the request: block it, redact the secret, or only report.'),
    known_secrets: z.strictObject({
      env: z.array(z.string().min(1).max(256)).max(1000).optional()
        .describe('Names (globs) of environment variables whose values are known secrets.'),
      files: z.array(z.string().min(1).max(4096)).max(1000).optional()
        .describe('Files whose contents (one secret per line) are known secrets.'),
    }).optional().describe('Real secret values matched exactly in traffic, in every common encoding.'),
  }).optional().describe('Data-loss prevention settings.'),
  credentials: z.record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'),
    z.strictObject({
      hosts: z.array(z.string().min(1).max(300)).min(1).max(100).describe('Hosts this credential may be sent to, and the only ones the broker connects to for it: `api.example.com`, `*.example.com` (subdomains only), an IP literal, each optionally with `:port` (without one: 443 over TLS, 80 in clear text; clear text only to loopback). The agent also needs a `Net` allow rule for them.'),
      header: z.string().min(1).max(128).optional().describe('Header that carries the credential (default `authorization`, where `Bearer` and `Basic` forms are swapped too). A placeholder in any other header, the URL or a body, or sent to any other host, is refused as exfiltration. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY together: SigV4 requests are re-signed with the real key instead.'),
      source: z.union([
        z.strictObject({ env: z.string().min(1) }),
        z.strictObject({ file: z.string().min(1) }),
        z.strictObject({ command: z.array(z.string()).min(1) }),
      ]).optional().describe('Where the real value comes from, read only by the broker process (default: the variable of the same name in your environment). `command` is an argv array run without a shell (15 s, 64 KiB of output); any error stops `cordon run` before the command starts.'),
    }),
  ).optional().describe('Credentials held by the credential broker (its own process); inside the sandbox each variable holds a placeholder of the same shape, swapped for the real value only on requests to the credential\'s hosts.'),
  mcp: z.strictObject({
    servers: z.record(
      z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, `_` and `-`'),
      z.strictObject({
        command: z.array(z.string()).min(1).optional().describe('argv of a stdio server.'),
        url: z.url().optional().describe('URL of a Streamable HTTP server.'),
        env: z.record(z.string(), z.string()).optional().describe('Environment given to the server (nothing else is inherited).'),
        headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'an HTTP header name'), z.string().max(8192)).optional()
          .describe('HTTP headers sent to a `url` server, e.g. its own credential: `Authorization: "Bearer ${GITHUB_MCP_TOKEN}"` (`${NAME}` is read from cordon\'s environment when the gateway starts). The agent\'s token to the gateway is never passed on.'),
        credential: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a credential name').optional()
          .describe('Name of a `credentials` entry sent to this `url` server in that credential\'s header (`Bearer` in `authorization`), only if the URL is on one of its hosts. Under `cordon run` the credential broker adds the real value on the way out and the gateway holds only the placeholder; standalone, the gateway reads the credential\'s source.'),
        policy: z.string().min(1).max(4096).optional()
          .describe('Policy file whose rules make the sandbox of this stdio server (default: the `default` profile with the workspace).'),
        sandbox: z.boolean().optional().describe('Run this stdio server in its own sandbox (default true; false is recorded in the audit log).'),
        injection: z.enum(['block', 'redact', 'warn']).optional()
          .describe('What injection findings in this server\'s output do (default: `mcp.injection`).'),
      }),
    ).optional(),
    injection: z.enum(['block', 'redact', 'warn']).optional()
      .describe('What text that tries to instruct the agent (in tool descriptions, results, resources, prompts, instructions) does: withhold it, remove the matched text, or pass it with a warning (default block).'),
    first_use: z.enum(['pin', 'hold']).optional()
      .describe('A server seen for the first time: pin its tools as seen (default), or hold every tool until `cordon mcp pins approve`.'),
  }).optional().describe('MCP servers served through the gateway.'),
  approvals: z.strictObject({
    ttl: DURATION.optional().describe('How long a pending approval waits before it becomes a deny (default 120s).'),
    channels: z.array(z.enum(['tty', 'web', 'webhook'])).optional(),
    webhook: z.url().optional(),
  }).optional().describe('How ask decisions reach a person.'),
  egress: z.strictObject({
    tls: z.strictObject({
      inspect: z.boolean().optional()
        .describe('Terminate TLS in CONNECT (and SOCKS port 443) tunnels with a per-session CA trusted only inside the sandbox, so every request inside is decided and scanned like plain HTTP (default true). false: tunnels are opaque and Http deny/ask rules refuse whole tunnels to their host.'),
      passthrough: z.array(z.string().regex(/^(?:\*|(?:\*\.)?[^\s*/:[\]]+|\[[0-9A-Fa-f:.]+\])$/, 'a host, `*.example.com` or `[v6]` (no port)')).max(1000).optional()
        .describe('Hosts (`api.example.com`, `*.example.com`) whose tunnels are not inspected, for certificate-pinned clients; the TLS SNI must still name the CONNECT host, and Http deny/ask rules refuse whole tunnels to them.'),
    }).optional().describe('TLS inspection in the egress proxy.'),
  }).optional().describe('Egress proxy settings.'),
  audit: z.strictObject({
    dir: z.string().min(1).optional().describe('Where decision logs are written (default `$XDG_STATE_HOME/cordon`).'),
    alerts: z.strictObject({ webhook: z.url().optional() }).optional(),
  }).optional().describe('The decision log.'),
}).describe('A cordon policy file.');

export type PolicyFile = z.infer<typeof POLICY_SCHEMA>;
export type RuleEntry = z.infer<typeof RULE_ENTRY_SCHEMA>;
export type ArgMatcherInput = z.infer<typeof ARG_MATCHER_SCHEMA>;

/**
 * A Claude Code `settings.json`: only its `permissions` block is read (as is);
 * every other key belongs to Claude Code and is ignored.
 */
export const CLAUDE_SETTINGS_SCHEMA = z.looseObject({
  permissions: z.looseObject({
    allow: z.array(z.string().min(1).max(MAX_RULE_LENGTH)).max(MAX_RULES).optional(),
    ask: z.array(z.string().min(1).max(MAX_RULE_LENGTH)).max(MAX_RULES).optional(),
    deny: z.array(z.string().min(1).max(MAX_RULE_LENGTH)).max(MAX_RULES).optional(),
  }).optional(),
});
