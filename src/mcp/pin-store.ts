/**
 * Tool pins on disk: one JSON file per server identity under
 * `<stateDir>/mcp-pins/`, validated on read (a damaged file is an error, never
 * an empty record), written atomically with mode 0600. The identity is the
 * configured name plus the launch command or URL: nothing the server itself
 * says, so a server cannot reset its own pins.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { stateDir } from '../audit/paths.js';
import { CordonError } from '../errors.js';
import { canonicalJson, sha256 } from './tool-hash.js';

const HASH = z.string().regex(/^[0-9a-f]{64}$/);

const PinnedToolSchema = z.strictObject({
  hash: HASH,
  definition: z.unknown(),
  approvedAt: z.string(),
  how: z.enum(['first-use', 'approved']),
});

const PendingToolSchema = z.strictObject({
  hash: HASH,
  definition: z.unknown(),
  seenAt: z.string(),
  status: z.enum(['new', 'changed', 'flagged']),
  reason: z.string(),
  diff: z.string(),
});

const ManifestPinSchema = z.strictObject({ hash: HASH, value: z.unknown() });

export const PinFileSchema = z.strictObject({
  version: z.literal(1),
  server: z.string().min(1),
  identity: HASH,
  launch: z.union([z.array(z.string()), z.string()]),
  manifest: ManifestPinSchema.nullable(),
  pendingManifest: ManifestPinSchema.extend({ diff: z.string(), seenAt: z.string() }).nullable(),
  tools: z.record(z.string(), PinnedToolSchema),
  pending: z.record(z.string(), PendingToolSchema),
});
export type PinFile = z.infer<typeof PinFileSchema>;
export type PinnedTool = z.infer<typeof PinnedToolSchema>;
export type PendingTool = z.infer<typeof PendingToolSchema>;

export type Launch = readonly string[] | string;

export function serverIdentity(server: string, launch: Launch): string {
  return sha256(canonicalJson({ server, launch }));
}

export function emptyPinFile(server: string, launch: Launch): PinFile {
  return { version: 1, server, identity: serverIdentity(server, launch), launch: typeof launch === 'string' ? launch : [...launch], manifest: null, pendingManifest: null, tools: {}, pending: {} };
}

export function defaultPinDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateDir(env), 'mcp-pins');
}

export class PinStore {
  readonly dir: string;

  constructor(dir: string = defaultPinDir()) {
    this.dir = dir;
  }

  fileFor(server: string, identity: string): string {
    return path.join(this.dir, `${server}-${identity.slice(0, 16)}.json`);
  }

  /** The record of this server identity, or null when it was never pinned. Throws CORDON_MCP_PIN_STORE when the file is damaged. */
  load(server: string, launch: Launch): PinFile | null {
    return this.#read(this.fileFor(server, serverIdentity(server, launch)));
  }

  save(record: PinFile): void {
    const file = this.fileFor(record.server, record.identity);
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, file);
    } catch (e) {
      throw new CordonError('CORDON_MCP_PIN_STORE', `cannot write the tool pins ${file}: ${String(e)}; check that ${this.dir} is writable`, { cause: e });
    }
  }

  /** Every record in the store (damaged files are reported through `onError` and skipped). */
  list(onError: (e: CordonError) => void = () => undefined): PinFile[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json')).sort();
    } catch {
      return [];
    }
    const out: PinFile[] = [];
    for (const n of names) {
      try {
        const r = this.#read(path.join(this.dir, n));
        if (r !== null) out.push(r);
      } catch (e) {
        if (e instanceof CordonError) onError(e);
        else throw e;
      }
    }
    return out;
  }

  #read(file: string): PinFile | null {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new CordonError('CORDON_MCP_PIN_STORE', `cannot read the tool pins ${file}: ${String(e)}`, { cause: e });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CordonError('CORDON_MCP_PIN_STORE', `the tool pins ${file} are not valid JSON; fix or remove the file (every tool of that server will then need approval)`);
    }
    const r = PinFileSchema.safeParse(parsed);
    if (!r.success) {
      throw new CordonError('CORDON_MCP_PIN_STORE', `the tool pins ${file} are damaged (${r.error.issues[0]?.message ?? 'invalid'}); fix or remove the file`);
    }
    return r.data;
  }
}
