/**
 * CPU per request of the structured scans the proxy runs besides the body stream: the URL, the headers and a JSON
 * body's fields (`scanUrl`, `scanHeaders`, `scanJsonValue`), on a typical agent API request (an LLM-style JSON body
 * with a dozen fields, a query of four parameters, nine headers) and on an MCP-like call of 16 short id fields.
 * Compare two checkouts: `node --import tsx bench/dlp/structured-cost.ts [ROOT]` (ROOT: another checkout, default this one).
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as StructuredModule from '../../src/dlp/structured.js';
import type * as ScannerModule from '../../src/dlp/scanner.js';

const root = path.resolve(process.argv[2] ?? fileURLToPath(new URL('../..', import.meta.url)));
const { scanUrl, scanHeaders, scanJsonValue } = (await import(pathToFileURL(path.join(root, 'src/dlp/structured.ts')).href)) as typeof StructuredModule;
const { DlpScanner } = (await import(pathToFileURL(path.join(root, 'src/dlp/scanner.ts')).href)) as typeof ScannerModule;
const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true });

const url = 'https://api.example.com/v1/repos/octo-org/hello-world/pulls?state=open&per_page=50&page=2&sort=updated';
const headers = ['Host', 'api.example.com', 'User-Agent', 'node-fetch/3.3.2', 'Accept', 'application/json', 'Content-Type', 'application/json', 'Accept-Encoding', 'gzip, deflate, br', 'Connection', 'keep-alive', 'X-Request-Id', '3f1c2a9e-7b4d-4e2a-9c1f-5d6e7f8a9b0c', 'Content-Length', '1873', 'anthropic-version', '2023-06-01'];
const body = {
  model: 'claude-sonnet', max_tokens: 1024, temperature: 0.2, stream: true,
  system: 'You are a careful coding assistant. Answer briefly and cite files by path.',
  messages: [
    { role: 'user', content: 'Why does the build fail on CI but not locally? The error is: Cannot find module ./dist/index.js' },
    { role: 'assistant', content: 'The dist folder is not built before the tests run; add a build step to the workflow.' },
    { role: 'user', content: 'Show me the workflow change as a diff against .github/workflows/ci.yml please.' },
  ],
  metadata: { user_id: 'u_8d7f6e5c', session: 'sess-2026-11-23-a' },
};
const mcp = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`f${i}`, `id-${(i * 7919).toString(36)}-${'abcdefgh'.slice(0, 4 + (i % 4))}`]));
const N = Number(process.env.N ?? 4000);
const cpu = (fn: () => void): number => {
  for (let i = 0; i < 200; i++) fn();
  const t = process.cpuUsage();
  for (let i = 0; i < N; i++) fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / N;
};
const req = cpu(() => {
  scanUrl(scanner, url);
  scanHeaders(scanner, headers);
  scanJsonValue(scanner, body, 'body');
});
const call = cpu(() => scanJsonValue(scanner, mcp, 'args'));
console.log(`${root}: request (url + headers + JSON body) ${req.toFixed(1)} us CPU, MCP-like call of 16 id fields ${call.toFixed(1)} us CPU`);
