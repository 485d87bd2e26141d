#!/usr/bin/env node
/**
 * The `cordon` command line: parsing and wiring only. Each action loads its
 * module lazily so `cordon run -- true` pays only for what it uses.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { isCordonError } from '../errors.js';
import { closeInheritedFds } from '../sandbox/inherited-fds.js';
import { exitCodeFor, usageExitCode, type CommandFamily } from './exit.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

let family: CommandFamily = 'other';

export function buildProgram(): Command {
  const program = new Command('cordon')
    .description('Contain compromised AI coding agents: OS sandbox, egress proxy, credential broker, MCP gateway, approvals and audit.')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions()
    .exitOverride();

  const policyOpts = (c: Command): Command =>
    c.option('-p, --policy <file>', 'policy file (repeatable)', collect)
      .option('--profile <name>', 'built-in profile to build on (default, none)')
      .option('-w, --workspace <dir>', 'workspace directory (default: current directory)');

  const policy = program.command('policy').description('check and explain policies');
  policyOpts(policy.command('check').argument('[files...]', 'policy files to validate (YAML, or a Claude Code settings.json)'))
    .description('validate policy files; errors name file, line and column (exit 0 valid, 1 invalid, 2 usage)')
    .action(async (files: string[], opts: { policy?: string[]; profile?: string; workspace?: string }) => {
      family = 'policy';
      const { policyCheck } = await import('./policy-cmd.js');
      process.exitCode = policyCheck(files, opts);
    });
  policyOpts(policy.command('explain').argument('<subjects...>', "subjects such as 'Bash(git push origin main)' or 'Net(example.com:443)'"))
    .description('print the decision, the deciding rule with its file and line, and why')
    .option('--json', 'machine-readable output')
    .action(async (subjects: string[], opts: { policy?: string[]; profile?: string; workspace?: string; json?: boolean }) => {
      family = 'policy';
      const { policyExplain } = await import('./policy-cmd.js');
      process.exitCode = await policyExplain(subjects, opts);
    });
  policy.command('schema').description('print the JSON Schema of policy files').action(async () => {
    const { policyJsonSchema } = await import('../policy/json-schema.js');
    process.stdout.write(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
  });

  const audit = program.command('audit').description('read and verify decision logs');
  audit.command('tail').argument('[session]', 'session id (s_...) or log file; default: the latest session')
    .option('-n, --lines <n>', 'how many records', (v) => Number.parseInt(v, 10), 20)
    .option('-f, --follow', 'keep printing new records')
    .option('--json', 'print raw JSON lines')
    .description('print the latest decision records')
    .action(async (session: string | undefined, opts: { lines: number; follow?: boolean; json?: boolean }) => {
      family = 'audit';
      const { runAuditTail } = await import('../audit/cli.js');
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      process.exitCode = await runAuditTail({
        lines: opts.lines, follow: opts.follow === true, json: opts.json === true, signal: ac.signal,
        ...(session === undefined ? {} : { target: session }),
      });
    });
  audit.command('verify').argument('[session]', 'session id (s_...) or log file; default: the latest session')
    .description('verify the hash chain (exit 0 intact, 1 broken, 2 unreadable)')
    .action(async (session: string | undefined) => {
      family = 'audit';
      const { runAuditVerify } = await import('../audit/cli.js');
      process.exitCode = await runAuditVerify(session);
    });
  audit.command('export').argument('[session]', 'session id (s_...) or log file; default: the latest session')
    .description('export decision records after verifying the hash chain (exit 0 done, 1 broken chain, 2 unreadable)')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'json', 'csv']).default('jsonl'))
    .option('-o, --output <file>', 'write to a new file (never overwritten) instead of stdout')
    .option('--force', 'export a log whose chain is broken (records marked chainIntact=false)')
    .action(async (session: string | undefined, opts: { format: 'jsonl' | 'json' | 'csv'; output?: string; force?: boolean }) => {
      family = 'audit';
      const { runAuditExport } = await import('../audit/cli.js');
      process.exitCode = await runAuditExport(session, { format: opts.format, ...(opts.output === undefined ? {} : { output: opts.output }), ...(opts.force === undefined ? {} : { force: opts.force }) });
    });

  policyOpts(program.command('run'))
    .description('run CMD inside the sandbox (exit: CMD\'s status; 125 cordon failed; 126 not executable; 127 not found)')
    .argument('<cmd...>', 'command and arguments (put them after --)')
    .addOption(new Option('--keep-env <names...>', 'extra environment variable names to pass (never credentials)'))
    .option('--report-only', 'egress: log would-deny decisions and forward anyway (mandatory denies still apply)')
    .option('--accept-trifecta', 'start even when the policy holds all three trifecta legs and no person can be reached for approvals (logged)')
    .passThroughOptions()
    .action(async (cmd: string[], opts: { policy?: string[]; profile?: string; workspace?: string; keepEnv?: string[]; reportOnly?: boolean; acceptTrifecta?: boolean }) => {
      family = 'run';
      const { runCommand } = await import('./run-cmd.js');
      process.exitCode = await runCommand(cmd, opts);
    });
  policyOpts(program.command('doctor')).description('check the host (bubblewrap, namespaces, seccomp) and print the trifecta analysis of the effective policy')
    .action(async (opts: { policy?: string[]; profile?: string; workspace?: string }) => {
      family = 'other';
      const { doctorCommand } = await import('./doctor-cmd.js');
      process.exitCode = await doctorCommand(opts);
    });

  program.command('scan').argument('[paths...]', "files or directories (default .); '-' reads stdin")
    .description('DLP scan for credentials (exit 0 clean, 1 findings, 2 error)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
    .option('--decode', 'also look inside encodings (base64, hex, percent, compression...)')
    .addOption(new Option('--min-confidence <level>', 'lowest confidence reported').choices(['low', 'medium', 'high']))
    .option('--enable <ids...>', 'detectors to turn on (e.g. aws-account-id)')
    .option('--disable <ids...>', 'detectors to turn off')
    .action(async (paths: string[], opts: { format: 'text' | 'json' | 'sarif'; decode?: boolean; minConfidence?: 'low' | 'medium' | 'high'; enable?: string[]; disable?: string[] }) => {
      family = 'scan';
      const { scanCommand } = await import('./scan-cmd.js');
      process.exitCode = await scanCommand(paths, opts);
    });
  policyOpts(program.command('proxy'))
    .description('run the egress proxy alone on loopback (a shared egress service)')
    .option('--listen <host:port>', 'HTTP/CONNECT listener on loopback', '127.0.0.1:3128')
    .option('--socks <host:port|off>', 'SOCKS5 listener on loopback, or off', '127.0.0.1:1080')
    .option('--report-only', 'log would-deny decisions and forward anyway (mandatory denies still apply)')
    .option('--ca-out <file>', 'write the session CA certificate (PEM, 0644) here for clients to trust (needed with TLS inspection)')
    .option('--no-inspect', 'keep CONNECT tunnels opaque (no TLS inspection; Http deny/ask rules refuse whole tunnels)')
    .action(async (opts: { policy?: string[]; profile?: string; workspace?: string; listen: string; socks: string; reportOnly?: boolean; caOut?: string; inspect: boolean }) => {
      family = 'other';
      const { proxyCommand } = await import('./proxy-cmd.js');
      process.exitCode = await proxyCommand(opts);
    });
  const mcp = program.command('mcp').description('MCP gateway: call policy, two-way scanning, tool pinning');
  policyOpts(mcp.command('wrap').argument('<cmd...>', 'the stdio MCP server command (after --)'))
    .description('stdio gateway in front of one MCP server: the agent launches this instead of the server')
    .option('--name <name>', 'server name in rules (mcp__NAME__tool); default from the command')
    .option('--no-sandbox', 'run the server without its own sandbox (recorded)')
    .addOption(new Option('--injection <action>', 'what an injection in server text does').choices(['block', 'redact', 'warn']))
    .addOption(new Option('--first-use <mode>', "a new server's tools: pin as seen, or hold until approved").choices(['pin', 'hold']))
    .passThroughOptions()
    .action(async (cmd: string[], opts: { policy?: string[]; profile?: string; workspace?: string; name?: string; sandbox?: boolean; injection?: 'block' | 'redact' | 'warn'; firstUse?: 'pin' | 'hold' }) => {
      family = 'other';
      const { mcpWrap } = await import('./mcp-cmd.js');
      process.exitCode = await mcpWrap(cmd, opts);
    });
  policyOpts(mcp.command('serve').argument('[cmd...]', 'one stdio MCP server command (after --); default: every server of mcp.servers'))
    .description('Streamable HTTP gateway on loopback: every configured server as one endpoint (tools named server__tool), or one server')
    .option('--listen <host:port>', 'loopback address to listen on', '127.0.0.1:0')
    .option('--url <url>', 'front one Streamable HTTP server at this URL (needs --name)')
    .option('--name <name>', 'server name in rules (mcp__NAME__tool) for --url or a command')
    .option('--no-sandbox', 'run a stdio server without its own sandbox (recorded)')
    .option('--origin <origin...>', 'browser origins allowed besides the loopback ones')
    .passThroughOptions()
    .action(async (cmd: string[], opts: { policy?: string[]; profile?: string; workspace?: string; listen?: string; url?: string; name?: string; sandbox?: boolean; origin?: string[] }) => {
      family = 'other';
      const { mcpServe } = await import('./mcp-serve-cmd.js');
      process.exitCode = await mcpServe(cmd, opts);
    });
  mcp.command('pins').argument('<action>', 'list, approve or revoke').argument('[server]', 'server name').argument('[tools...]', 'tool names (default: all of the server)')
    .description('list, approve or revoke pinned MCP tool definitions (held tools show their diff)')
    .option('--json', 'machine-readable output')
    .action(async (action: string, server: string | undefined, tools: string[], opts: { json?: boolean }) => {
      family = 'other';
      const { mcpPins } = await import('./mcp-cmd.js');
      process.exitCode = mcpPins(action, server === undefined ? [] : [server, ...tools], opts);
    });
  policyOpts(mcp.command('scan').argument('[servers...]', 'configured server names (default: all); or a stdio server command after --'))
    .description('start each MCP server (sandboxed) and report what the gateway would flag: injection in descriptions and instructions, shadowing, changed pins (exit 0 clean, 1 findings, 2 error)')
    .option('--json', 'machine-readable output')
    .option('--name <name>', 'server name for a command given after --')
    .option('--no-sandbox', 'run a command given after -- without its own sandbox')
    .action(async (servers: string[], opts: { policy?: string[]; profile?: string; workspace?: string; json?: boolean; name?: string; sandbox?: boolean }) => {
      family = 'scan';
      const { mcpScan } = await import('./mcp-cmd.js');
      // Operands after `--` are the command (commander lists them with the server names, in order).
      const dash = process.argv.indexOf('--');
      const cmd = dash === -1 ? [] : process.argv.slice(dash + 1);
      process.exitCode = await mcpScan(servers.slice(0, servers.length - cmd.length), cmd, opts);
    });
  policyOpts(program.command('hook').argument('<harness>', 'claude-code or codex'))
    .description('PreToolUse hook: reads the hook JSON on stdin and answers deny or ask (allow is no opinion unless --answer-allow); any error blocks (exit 2)')
    .option('--answer-allow', "answer 'allow' too (bypasses the harness's own permission prompts)")
    .option('--ask-wait <seconds>', 'under cordon run, how long to wait for a person to answer an ask (default 25; keep it below the hook timeout)')
    .action(async (harness: string, opts: { policy?: string[]; profile?: string; workspace?: string; answerAllow?: boolean; askWait?: string }) => {
      family = 'other';
      const { hookCommand } = await import('./hook-cmd.js');
      process.exitCode = await hookCommand(harness, opts);
    });
  program.command('init').argument('<harness>', 'claude-code or codex')
    .description('install the cordon hook in the harness settings (merges, keeps a backup)')
    .option('--managed', 'write the managed (organisation) settings file')
    .option('--user', "write the user's settings file")
    .option('--file <path>', 'write this settings file')
    .option('--dry-run', 'print what would change, write nothing')
    .option('-w, --workspace <dir>', 'project directory (default: current directory)')
    .action(async (harness: string, opts: { managed?: boolean; user?: boolean; file?: string; dryRun?: boolean; workspace?: string }) => {
      family = 'other';
      const { initCommand } = await import('./hook-cmd.js');
      process.exitCode = initCommand(harness, opts);
    });
  program.command('approvals').argument('[action]', 'list (default), approve or deny').argument('[id]', 'approval id (a_...)')
    .description('pending approvals of running cordon run sessions: list, approve ID, deny ID (exit 0 done, 1 no such approval, 2 usage)')
    .option('--json', 'machine-readable output')
    .option('--hash <sha256>', 'answer only if the request still has this hash')
    .action(async (action: string | undefined, id: string | undefined, opts: { json?: boolean; hash?: string }) => {
      family = 'other';
      const { approvalsCommand } = await import('./approvals-cmd.js');
      process.exitCode = await approvalsCommand(action, id, opts);
    });
  program.command('ui').description('local web dashboard on 127.0.0.1: pending approvals, the live decision stream, the trifecta analysis')
    .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', (v) => Number.parseInt(v, 10))
    .option('--open-url-file <file>', 'also write the URL (with its token) to this file, mode 0600')
    .action(async (opts: { port?: number; openUrlFile?: string }) => {
      family = 'other';
      const { uiCommand } = await import('./ui-cmd.js');
      process.exitCode = await uiCommand(opts);
    });
  program.command('lab')
    .description('the red-team lab: a compromised agent attacks from inside cordon run; exit 0 only if every attack was contained and every benign task worked')
    .option('--quick', 'the quick subset (as run in CI)')
    .option('--json', 'print the report as JSON')
    .option('--html <file>', 'also write a self-contained HTML report')
    .addOption(new Option('--agent <agent>', 'the compromised agent').choices(['shell', 'claude']).default('shell'))
    .option('--filter <id|prefix|class>', 'run only matching scenarios (repeatable)', collect)
    .option('--keep', 'keep the lab directory (workspaces, audit logs) for inspection')
    .action(async (opts: { quick?: boolean; json?: boolean; html?: string; agent: string; filter?: string[]; keep?: boolean }) => {
      family = 'other';
      const { labCommand } = await import('./lab-cmd.js');
      process.exitCode = await labCommand(opts);
    });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  family = argv[2] === 'run' ? 'run' : argv[2] === 'policy' ? 'policy' : argv[2] === 'scan' ? 'scan' : 'other';
  try {
    const program = buildProgram();
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return usageExitCode(family);
    }
    if (isCordonError(e)) {
      process.stderr.write(`cordon: ${e.message}\n`);
      return exitCodeFor(e.code, family);
    }
    process.stderr.write(`cordon: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return family === 'run' ? 125 : 2;
  }
}

// Before anything is spawned: fds inherited beyond the standard streams never reach a sandbox (see inherited-fds.ts).
if (process.argv[2] === 'run' || process.argv[2] === 'mcp') closeInheritedFds();
process.exitCode = await main(process.argv);
