/**
 * The webhook channel (`approvals.webhook`): each pending approval is POSTed
 * as JSON to the configured URL, signed `X-Cordon-Signature: sha256=<HMAC of
 * the body>` with the secret in `$CORDON_WEBHOOK_SECRET` (the supervisor's
 * environment; the sandbox's is scrubbed). A phone or chat tool answers by
 * POSTing `{"id","hash","verdict"}` to the callback URL in the payload,
 * signed the same way. Unsigned, badly signed, malformed or late answers are
 * refused; nothing is ever approved by default.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { CordonError } from '../errors.js';
import type { ApprovalService, ServiceEvent } from './service.js';

export const WEBHOOK_SECRET_ENV = 'CORDON_WEBHOOK_SECRET';
const MAX_CALLBACK_BYTES = 4096;

const CallbackSchema = z.strictObject({
  id: z.string().regex(/^a_[0-9a-f]{12}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  verdict: z.enum(['approve', 'deny']),
});

export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function signatureOk(secret: string, body: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const want = Buffer.from(signBody(secret, body));
  const got = Buffer.from(header.trim());
  return got.length === want.length && timingSafeEqual(got, want);
}

export interface WebhookChannel {
  readonly callbackUrl: string;
  close(): Promise<void>;
}

export interface WebhookOptions {
  readonly url: string;
  readonly secret: string;
  /** Callback listener (default 127.0.0.1:0). */
  readonly listenHost?: string;
  readonly listenPort?: number;
  /** Diagnostics (never to the agent). */
  readonly log?: (line: string) => void;
}

function reply(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ ok: status === 200, message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

export async function startWebhookChannel(service: ApprovalService, o: WebhookOptions): Promise<WebhookChannel> {
  if (o.secret.length < 16) throw new CordonError('CORDON_APPROVAL', `${WEBHOOK_SECRET_ENV} must hold at least 16 characters to sign webhook answers`);
  const log = o.log ?? ((l: string) => void process.stderr.write(`cordon: webhook: ${l}\n`));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== '/callback') {
      reply(res, 404, 'POST /callback only');
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_CALLBACK_BYTES) {
        reply(res, 413, 'answer too large');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const body = Buffer.concat(chunks);
      if (!signatureOk(o.secret, body, req.headers['x-cordon-signature'])) {
        reply(res, 401, 'missing or wrong X-Cordon-Signature; nothing was decided');
        return;
      }
      let parsed: z.infer<typeof CallbackSchema>;
      try {
        parsed = CallbackSchema.parse(JSON.parse(body.toString('utf8')));
      } catch {
        reply(res, 400, 'expected {"id","hash","verdict":"approve"|"deny"}');
        return;
      }
      const r = service.answer({ ...parsed, by: 'webhook' });
      reply(res, r.ok ? 200 : 409, r.ok ? `${parsed.verdict === 'approve' ? 'approved' : 'denied'} ${parsed.id}` : r.message);
    });
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.listenPort ?? 0, o.listenHost ?? '127.0.0.1', () => resolve());
  });
  server.unref();
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const callbackUrl = `http://${host}:${addr.port}/callback`;

  const post = (payload: unknown): void => {
    const body = JSON.stringify(payload);
    fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-cordon-signature': signBody(o.secret, body) },
      body,
      signal: AbortSignal.timeout(10_000),
      redirect: 'error',
    }).then(async (r) => {
      await r.body?.cancel();
      if (!r.ok) log(`${o.url} answered ${r.status}`);
    }, (e: unknown) => log(`POST to the webhook failed (${e instanceof Error ? e.message : String(e)}); the approval waits for another channel or expires as a deny`));
  };
  const off = service.on((e: ServiceEvent) => {
    if (e.kind === 'pending') {
      post({ type: 'cordon.approval.pending', approval: e.approval, answer: { url: callbackUrl, method: 'POST', body: { id: e.approval.id, hash: e.approval.hash, verdict: 'approve | deny' }, signature: 'X-Cordon-Signature: sha256=HMAC-SHA256(secret, body)' } });
    } else {
      post({ type: 'cordon.approval.resolved', id: e.id, approved: e.approved, reason: e.reason });
    }
  });
  return {
    callbackUrl,
    close: async () => {
      off();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
