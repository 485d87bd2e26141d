/**
 * Entry point of the lab inside its own network and mount namespaces
 * (started by `cordon lab` through unshare). Reads its configuration file,
 * sets up the lab network, runs the scenarios, writes the report as JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { claudeAgent } from './claude.js';
import { setupLabNetwork } from './netns.js';
import { runLab } from './runner.js';
import { allScenarios } from './scenarios/index.js';
import { selectScenarios } from './select.js';
import { progressPrinter } from './report-text.js';

export const InnerConfigSchema = z.strictObject({
  labRoot: z.string().min(1),
  cordonBin: z.string().min(1),
  distDir: z.string().min(1),
  agent: z.enum(['shell', 'claude', 'control']),
  quick: z.boolean(),
  filter: z.array(z.string()),
  out: z.string().min(1),
  concurrency: z.number().int().min(1).max(8),
  claudeBin: z.string().optional(),
  srtBin: z.string().min(1).optional(),
  tty: z.boolean(),
});
export type InnerConfig = z.infer<typeof InnerConfigSchema>;

const cfg = InnerConfigSchema.parse(JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')));
const { ipv6 } = setupLabNetwork(cfg.labRoot);
const scenarios = selectScenarios(allScenarios(), { quick: cfg.quick, filter: cfg.filter, claudeOnly: cfg.agent === 'claude' });
const claude = cfg.agent === 'claude' ? await claudeAgent(cfg.claudeBin, cfg.cordonBin) : undefined;
const report = await runLab({
  scenarios, labRoot: cfg.labRoot, cordonBin: cfg.cordonBin, distDir: cfg.distDir, agent: cfg.agent, ipv6, concurrency: cfg.concurrency,
  agentNote: cfg.agent === 'shell' ? 'scripted shell agent: each scenario\'s steps run by sh -c inside cordon run'
    : cfg.agent === 'control' ? 'CONTROL: the steps run by plain sh with NO sandbox (to show the detector sees leaks)'
      : claude?.note ?? 'Claude Code',
  progress: progressPrinter(cfg.tty),
  ...(cfg.srtBin === undefined ? {} : { srtBin: cfg.srtBin }),
  ...(claude?.runAgent === undefined ? {} : { runAgent: claude.runAgent }),
  ...(claude?.unavailable === undefined ? {} : { allUnavailable: claude.unavailable }),
});
writeFileSync(cfg.out, JSON.stringify(report));
