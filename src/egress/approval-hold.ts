/**
 * Egress side of approvals. When the policy answers `ask` and an approval
 * service is wired in, the request is held (nothing is sent upstream), its
 * exact form is sent to a person, and only an approval of that exact hash
 * lets it through: for HTTP the method, host, port, path with query and the
 * SHA-256 of the whole body (read and held here, then replayed byte for byte);
 * for CONNECT/SOCKS tunnels, whose bytes cannot be inspected, the tunnel to
 * host:port. Any failure, a timeout or a missing answer is a deny.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { AskInput, ExactRequest } from '../approval/request.js';
import { APPROVAL_LIMITS } from '../approval/request.js';
import type { Decision } from '../policy/types.js';
import type { NetSubject } from './destination.js';
import type { Refusal } from './refusal.js';

/** What the gate needs to ask a person; resolves (never rejects, but a rejection is a deny too). */
export type EgressApprover = (ask: AskInput) => Promise<{ readonly approved: boolean; readonly id: string; readonly reason: string }>;

export interface HeldBody {
  readonly sha256: string;
  readonly length: number;
  /** The start of the body as text, for the person (the hash covers all of it). */
  readonly preview: string;
}

/** Reads the whole request body (bounded) so its hash can be approved; `replay()` then yields the same bytes. */
export class BodyHold {
  readonly #req: IncomingMessage;
  readonly #max: number;
  #chunks: Buffer[] | undefined;

  constructor(req: IncomingMessage, maxBytes: number) {
    this.#req = req;
    this.#max = maxBytes;
  }

  /** True once the body was read (the caller must then send `replay()` instead of the request stream). */
  get held(): boolean {
    return this.#chunks !== undefined;
  }

  read(subject: string): Promise<HeldBody | Refusal> {
    const req = this.#req;
    // A person may take a while to answer: the client connection's idle timer must not cut it meanwhile.
    req.socket.setTimeout(0);
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      const hash = createHash('sha256');
      let length = 0;
      let done = false;
      const finish = (r: HeldBody | Refusal): void => {
        if (done) return;
        done = true;
        resolve(r);
      };
      req.on('data', (c: Buffer) => {
        if (done) return;
        length += c.length;
        if (length > this.#max) {
          req.pause();
          finish({ kind: 'limit', status: 413, subject, rule: 'approval hold', reason: `The request body is larger than ${this.#max} bytes, the most held while a person decides; nothing was sent.`, mandatory: false });
          return;
        }
        hash.update(c);
        chunks.push(c);
      });
      req.once('end', () => {
        this.#chunks = chunks;
        const preview = Buffer.concat(chunks).subarray(0, APPROVAL_LIMITS.maxPreview / 4).toString('utf8');
        finish({ sha256: hash.digest('hex'), length, preview });
      });
      req.once('error', () => finish({ kind: 'malformed', status: 400, subject, rule: 'approval hold', reason: 'The request body could not be read; nothing was sent.', mandatory: false }));
    });
  }

  replay(): Readable {
    return Readable.from(this.#chunks ?? []);
  }
}

function isRefusal(x: HeldBody | Refusal): x is Refusal {
  return 'kind' in x;
}

export type AskOutcome = { readonly approved: true; readonly reason: string } | { readonly approved: false; readonly refusal: Refusal };

/** Builds the exact request, asks, and turns the answer into a pass or a refusal. */
export async function askPerson(
  approve: EgressApprover, subject: NetSubject, decision: Decision, rule: string, suggestion: string | undefined,
  readBody: ((subject: string) => Promise<HeldBody | Refusal>) | undefined,
): Promise<AskOutcome> {
  const base = { kind: 'policy' as const, status: 403, subject: decision.subject, rule, mandatory: false, ask: true, ...(suggestion === undefined ? {} : { suggestion }) };
  let request: ExactRequest;
  let preview: string | undefined;
  if (subject.kind === 'Http') {
    if (readBody === undefined) return { approved: false, refusal: { ...base, reason: `${decision.reason} This request cannot be held for approval here; refused.` } };
    const body = await readBody(decision.subject);
    if (isRefusal(body)) return { approved: false, refusal: body };
    preview = body.preview;
    request = { kind: 'http', method: subject.method, host: subject.host.name, port: subject.port ?? 80, target: subject.path, bodySha256: body.sha256, bodyLength: body.length };
  } else {
    request = { kind: 'tunnel', host: subject.host.name, port: subject.port ?? 0 };
  }
  let out: Awaited<ReturnType<EgressApprover>>;
  try {
    out = await approve({
      request, boundary: 'egress', subject: decision.subject, rule, reason: decision.reason,
      ...(suggestion === undefined ? {} : { suggestion }), ...(preview === undefined || preview === '' ? {} : { preview }),
    });
  } catch (e) {
    return { approved: false, refusal: { ...base, reason: `${decision.reason} The approval service failed (${e instanceof Error ? e.message : 'error'}); an ask is a deny.` } };
  }
  if (out.approved) return { approved: true, reason: `${decision.reason} ${out.reason} (${out.id})` };
  return { approved: false, refusal: { ...base, reason: `${decision.reason} ${out.reason} (${out.id})`, approval: out.reason } };
}
