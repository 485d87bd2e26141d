/**
 * The egress issue's soak figure: "no growth over a 60-second soak". The
 * proxy with the DLP request scanner (as `cordon run` starts it; children.ts
 * role `proxy-dlp`) serves a mixed load for SECONDS, and its RSS is sampled
 * every 5 s:
 *   - 32 clients sending small keep-alive GETs back to back,
 *   - every second 100 new connections that each make one request and close,
 *   - every second a 1 MiB upload (scanned) and a 20 MB download abandoned
 *     halfway (the proxy must release both sides),
 *   - 500 connections opened at the start and held for the whole soak.
 * The load runs for a warm-up (default 20 s: V8 sizes its heap for the load
 * first) and then for the soak itself; growth is the mean of the soak's last
 * three samples minus the mean of its first three, and passes under 10 MB and
 * under 10% of the start.
 *
 * Usage: node --import tsx bench/egress/soak.ts [--seconds 60] [--warmup 20]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const { values: opt } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, warmup: { type: 'string', default: '20' } } });
const SECONDS = Number(opt.seconds);
const WARMUP = Number(opt.warmup);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = mkdtempSync(path.join(tmpdir(), 'cordon-soak-'));
const BUNDLE = path.join(ROOT, 'node_modules', '.cache', 'cordon-bench-egress', `soak-children-${process.pid}.mjs`);
const children: ChildProcess[] = [];
process.once('exit', () => {
  for (const c of children) c.kill();
  rmSync(DIR, { recursive: true, force: true });
  rmSync(BUNDLE, { force: true });
});
mkdirSync(path.dirname(BUNDLE), { recursive: true });
await build({
  entryPoints: [fileURLToPath(new URL('./children.ts', import.meta.url))], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: BUNDLE, logLevel: 'warning',
  banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
});

function child(role: string): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [BUNDLE, role], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BIG_MB: '20', BENCH_DIR: DIR } });
  children.push(proc);
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`soak child ${role} exited (${code ?? 'signal'})`)));
    proc.stdout?.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), proc }));
  });
}

const rssMb = (pid: number | undefined): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid ?? 0}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const up = await child('upstream');
const px = await child('proxy-dlp');
const target = (p: string): string => `http://127.0.0.1:${up.port}${p}`;

let requests = 0;
let failures = 0;
/** One request through the proxy; resolves with the body length (or rejects). `abandonAt` closes the response after that many bytes. */
function send(p: string, agent: Agent | false, body?: Buffer, abandonAt?: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: px.port, method: body === undefined ? 'GET' : 'POST', path: target(p), agent, headers: body === undefined ? {} : { 'content-type': 'text/plain', 'content-length': String(body.length) } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (abandonAt !== undefined && n >= abandonAt) {
          res.destroy();
          resolve(n);
        }
      });
      res.on('end', () => resolve(n));
      res.on('error', () => resolve(n));
    });
    req.on('error', reject);
    req.end(body);
  }).then((n) => {
    requests++;
    return n;
  }, (e: unknown) => {
    failures++;
    throw e;
  });
}

const end = Date.now() + (WARMUP + SECONDS) * 1000;
const running = (): boolean => Date.now() < end;
const prose = Buffer.from('The quick brown fox jumps over the lazy dog while the build runs its tests again. '.repeat(13_000).slice(0, 1024 * 1024));

// 500 connections held for the whole soak (each made one request, then idles on its keep-alive agent).
const held = new Agent({ keepAlive: true, maxSockets: 500, keepAliveMsecs: 1000 });
await Promise.all(Array.from({ length: 500 }, () => send('/small', held)));

const loops: Promise<void>[] = [];
for (let i = 0; i < 32; i++) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  loops.push((async () => {
    while (running()) await send('/small', agent).catch(() => undefined);
    agent.destroy();
  })());
}
loops.push((async () => {
  while (running()) {
    const t = Date.now();
    await Promise.all([
      ...Array.from({ length: 100 }, () => send('/small', false).catch(() => 0)),
      send('/upload', false, prose).catch(() => 0),
      send('/big', false, undefined, 10 * 1024 * 1024).catch(() => 0),
    ]);
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - t))));
  }
})());

const samples: { t: number; mb: number }[] = [];
const start = Date.now();
loops.push((async () => {
  while (running()) {
    samples.push({ t: (Date.now() - start) / 1000, mb: rssMb(px.proc.pid) });
    await new Promise((r) => setTimeout(r, 5000));
  }
})());
await Promise.all(loops);
samples.push({ t: (Date.now() - start) / 1000, mb: rssMb(px.proc.pid) });
held.destroy();

const soak = samples.filter((s) => s.t >= WARMUP);
if (soak.length < 6) throw new Error(`too few RSS samples in the soak (${soak.length}): run it for 30 s or more`);
const mean = (xs: readonly { mb: number }[]): number => xs.reduce((a, s) => a + s.mb, 0) / xs.length;
const first = mean(soak.slice(0, 3));
const last = mean(soak.slice(-3));
const growth = last - first;
const ok = growth < Math.min(10, first * 0.1);
process.stdout.write(`egress proxy soak, ${WARMUP} s warm-up + ${SECONDS} s (DLP scanner on): ${requests} requests, ${failures} failed\n`);
process.stdout.write(`RSS (MB) every 5 s: ${samples.map((s) => s.mb.toFixed(0)).join(' ')} (soak from ${WARMUP} s)\n`);
process.stdout.write(`growth over the soak: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB (first three samples ${first.toFixed(0)}, last three ${last.toFixed(0)}, peak ${Math.max(...soak.map((s) => s.mb)).toFixed(0)}); target: no growth (under 10 MB and 10%): ${ok ? 'ok' : 'MISSED'}\n`);
process.exit(0);
