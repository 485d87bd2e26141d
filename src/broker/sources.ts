/**
 * Where a credential's real value comes from: a variable of the broker's own
 * environment (the supervisor passes only the variables sources name), a
 * file, or a command run with an argv array (no shell), a timeout and a
 * bounded output. Any problem is a `CORDON_BROKER` error naming the
 * credential and what to do; the run does not start (fail closed). Values
 * never appear in messages.
 */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CordonError } from '../errors.js';

export type CredentialSource = { readonly env: string } | { readonly file: string } | { readonly command: readonly string[] };

export interface SourceLimits {
  /** Largest value read from a file or a command's output (default 64 KiB). */
  readonly maxBytes?: number;
  /** How long a command may run (default 15 s). */
  readonly commandTimeoutMs?: number;
}

const DEFAULT_MAX = 64 * 1024;

function fail(name: string, what: string): never {
  throw new CordonError('CORDON_BROKER', `credential ${name}: ${what}`);
}

/** The variable a source reads (the default source is the variable named like the credential). */
export function sourceEnvName(name: string, source: CredentialSource | undefined): string | undefined {
  if (source === undefined) return name;
  return 'env' in source ? source.env : undefined;
}

/** A value as used in a header: surrounding whitespace (a file's final newline) removed; one line, not empty. */
function clean(name: string, raw: string, from: string): string {
  const v = raw.trim();
  if (v === '') fail(name, `${from} is empty; put the credential there or change credentials.${name}.source`);
  if (/[\r\n\0]/.test(v)) fail(name, `${from} holds more than one line; a credential must be a single line (for a command, print only the value)`);
  return v;
}

async function readBounded(name: string, file: string, max: number): Promise<string> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    fail(name, `file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); create it or change credentials.${name}.source`);
  }
  try {
    const buf = Buffer.alloc(max + 1);
    const { bytesRead } = await fh.read(buf, 0, max + 1, 0);
    if (bytesRead > max) fail(name, `file ${file} is larger than ${max} bytes; it should hold only the credential`);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

function runCommand(name: string, argv: readonly string[], env: NodeJS.ProcessEnv, max: number, timeoutMs: number): Promise<string> {
  const [file, ...args] = argv;
  if (file === undefined) fail(name, 'the source command is empty');
  const shown = argv.map((a) => JSON.stringify(a)).join(' ');
  return new Promise((resolve, reject) => {
    // stderr goes to cordon's stderr, so the person sees the tool's own error message.
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'inherit'], shell: false });
    const chunks: Buffer[] = [];
    let size = 0;
    let why: string | undefined;
    const timer = setTimeout(() => {
      why = `the command [${shown}] did not finish within ${timeoutMs} ms`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        why ??= `the command [${shown}] printed more than ${max} bytes; it should print only the credential`;
        child.kill('SIGKILL');
        return;
      }
      chunks.push(c);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      why ??= `the command [${shown}] could not be started (${e.code ?? e.message}); install it or change credentials.${name}.source`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (why === undefined && code !== 0) why = `the command [${shown}] failed (${signal === null ? `exit status ${code ?? '?'}` : `killed by ${signal}`})`;
      if (why !== undefined) reject(new CordonError('CORDON_BROKER', `credential ${name}: ${why}`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** Reads one credential's real value (inside the broker process only). */
export async function resolveSource(name: string, source: CredentialSource | undefined, env: NodeJS.ProcessEnv, limits: SourceLimits = {}): Promise<string> {
  const max = limits.maxBytes ?? DEFAULT_MAX;
  if (source === undefined || 'env' in source) {
    const v = source === undefined ? name : source.env;
    const value = env[v];
    if (value === undefined) fail(name, `the environment variable ${v} is not set; export it before cordon run or change credentials.${name}.source`);
    return clean(name, value, `the environment variable ${v}`);
  }
  if ('file' in source) {
    const home = env.HOME ?? os.homedir();
    const file = source.file.startsWith('~/') ? path.join(home, source.file.slice(2)) : path.resolve(source.file);
    return clean(name, await readBounded(name, file, max), `file ${file}`);
  }
  const out = await runCommand(name, source.command, env, max, limits.commandTimeoutMs ?? 15_000);
  return clean(name, out, `the output of [${source.command.map((a) => JSON.stringify(a)).join(' ')}]`);
}
