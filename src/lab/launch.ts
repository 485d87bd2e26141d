/**
 * Host side of the lab: find the built CLI, start the runner in its own
 * network and mount namespaces (bounded in time), read its report back.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InnerConfig } from './inner.js';
import { namespaceArgv } from './netns.js';
import type { AgentKind, LabReport } from './result.js';

export interface LaunchOptions {
  readonly agent: AgentKind;
  readonly quick: boolean;
  readonly filter: readonly string[];
  readonly concurrency?: number;
  readonly timeoutMs?: number;
  /** Package root (default: found from this module). */
  readonly root?: string;
  readonly keep?: boolean;
  /** srt's `srt` (default: $SRT_BIN). */
  readonly srtBin?: string;
}

/** The package root: src/lab, dist/lab and dist/bin are all two levels below it. */
export function packageRoot(): string {
  return fileURLToPath(new URL('../..', import.meta.url));
}

function innerEntry(root: string): { argv: string[] } {
  const built = path.join(root, 'dist', 'lab', 'inner.js');
  if (import.meta.url.endsWith('.ts')) return { argv: [process.execPath, '--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./inner.ts', import.meta.url))] };
  return { argv: [process.execPath, built] };
}

export function missingBuild(root: string): string | undefined {
  for (const f of ['dist/bin/main.js', 'dist/lab/inner.js', 'dist/egress/proxy-process.js', 'bin/cordon']) {
    if (!existsSync(path.join(root, f))) return `${f} is missing: run npm run build first (the lab runs the built bin/cordon and builds nothing itself)`;
  }
  return undefined;
}

export async function launchLab(o: LaunchOptions): Promise<LabReport> {
  const root = o.root ?? packageRoot();
  const missing = missingBuild(root);
  if (missing !== undefined) throw new Error(missing);
  const labRoot = mkdtempSync(path.join(os.tmpdir(), 'cordon-lab-'));
  const claudeBin = path.join(root, 'node_modules', '.bin', 'claude');
  // srt for the side-by-side column: only when SRT_BIN names an existing file; never required.
  const srtEnv = o.srtBin ?? process.env['SRT_BIN'];
  const srtBin = srtEnv !== undefined && srtEnv !== '' && existsSync(srtEnv) ? path.resolve(srtEnv) : undefined;
  const cfg: InnerConfig = {
    labRoot, cordonBin: path.join(root, 'bin', 'cordon'), distDir: path.join(root, 'dist'), agent: o.agent, quick: o.quick,
    filter: [...o.filter], out: path.join(labRoot, 'report.json'), concurrency: o.concurrency ?? 2, tty: process.stderr.isTTY === true,
    ...(existsSync(claudeBin) ? { claudeBin } : {}),
    ...(srtBin === undefined ? {} : { srtBin }),
  };
  const cfgFile = path.join(labRoot, 'config.json');
  writeFileSync(cfgFile, JSON.stringify(cfg));
  const [cmd, ...args] = namespaceArgv([...innerEntry(root).argv, cfgFile]);
  try {
    const status = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(cmd ?? 'unshare', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: labRoot, LANG: 'C.UTF-8' } });
      const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 15 * 60_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`could not start the lab namespace (unshare): ${e.message}`));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    if (status !== 0 || !existsSync(cfg.out)) throw new Error(`the lab runner failed (status ${String(status)}); see the messages above`);
    return JSON.parse(readFileSync(cfg.out, 'utf8')) as LabReport;
  } finally {
    if (o.keep !== true) rmSync(labRoot, { recursive: true, force: true, maxRetries: 3 });
  }
}
