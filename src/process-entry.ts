/**
 * Where the entry point of one of cordon's own child processes (the egress
 * proxy, the credential broker, the MCP gateway) is: the .ts source under tsx,
 * beside this module in the tsc build (dist/), or in dist/ next to the bundles
 * (dist/bin/), since an entry point must be a file of its own.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CordonError, type ErrorCode } from './errors.js';

/** `modulePath` is relative to src/ without an extension, e.g. `egress/proxy-process`. */
export function processEntry(modulePath: string, code: ErrorCode, what: string): { file: string; execArgv: string[] } {
  if (import.meta.url.endsWith('.ts')) {
    return { file: fileURLToPath(new URL(`./${modulePath}.ts`, import.meta.url)), execArgv: ['--import', import.meta.resolve('tsx')] };
  }
  for (const rel of [`./${modulePath}.js`, `../${modulePath}.js`]) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return { file, execArgv: [] };
  }
  throw new CordonError(code, `the ${what} entry point (${modulePath}.js) is missing from this installation; rebuild with npm run build`);
}
