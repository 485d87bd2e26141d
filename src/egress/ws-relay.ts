/**
 * The relay of an upgraded WebSocket connection. Client-to-server frames are
 * parsed (bounded), unmasked, inflated when permessage-deflate is on, and
 * each data frame's plaintext is scanned before that frame is forwarded
 * unchanged; the DLP scanner keeps an overlap window per connection (one
 * `ScanContext` per connection), so a secret split across frames is found
 * when its last part arrives, before that frame leaves. A finding closes the
 * client side with 1008 and drops the upstream connection: the frame never
 * reaches upstream. Protocol errors close with 1002 (1009 above a size
 * bound). Server-to-client bytes are forwarded as they come (responses are
 * not an exfiltration path; the proxy does not scan them).
 */
import type { Socket } from 'node:net';
import type { ProxyContext } from './context.js';
import { scan } from './context.js';
import type { ScanContext } from './scanner.js';
import { closeFrame, FrameReader, isControl, OPCODE, type Frame } from './ws-frame.js';
import { MessageInflater } from './ws-inflate.js';

export interface WsLimits {
  /** Largest frame payload (bytes). Above: close 1009. */
  readonly maxFrameBytes: number;
  /** Largest message, fragments together, after inflation (bytes). Above: close 1009. */
  readonly maxMessageBytes: number;
  /** Largest inflation ratio of a compressed message (once over 1 MiB). Above: close 1009. */
  readonly maxInflateRatio: number;
}

export const DEFAULT_WS_LIMITS: WsLimits = { maxFrameBytes: 16 * 1024 * 1024, maxMessageBytes: 64 * 1024 * 1024, maxInflateRatio: 200 };

export interface Relay {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Bytes the client sent after the upgrade request, and the upstream after its 101. */
  readonly clientHead: Buffer;
  readonly upstreamHead: Buffer;
  readonly deflate: boolean;
  readonly sc: ScanContext;
  readonly onClose: () => void;
}

export function relayWebSocket(ctx: ProxyContext, r: Relay, limits: WsLimits = DEFAULT_WS_LIMITS): void {
  const { client, upstream, sc } = r;
  let closed = false;
  const reader = new FrameReader({ masked: true, maxFrameBytes: limits.maxFrameBytes, deflate: r.deflate });
  const inflater = r.deflate ? new MessageInflater({ maxMessageBytes: limits.maxMessageBytes, maxRatio: limits.maxInflateRatio }) : undefined;
  let message: { compressed: boolean; bytes: number } | undefined;
  let busy = false;
  const total = setTimeout(() => close(1001, 'cordon: the connection reached the proxy\'s total time limit'), ctx.limits.totalTimeoutMs);

  function close(code: number, reason: string): void {
    if (closed) return;
    closed = true;
    clearTimeout(total);
    inflater?.close();
    upstream.destroy();
    if (client.writable) client.end(closeFrame(code, `cordon: ${reason}`.slice(0, 120)));
    client.destroySoon();
    r.onClose();
  }
  const end = (): void => {
    if (closed) return;
    closed = true;
    clearTimeout(total);
    inflater?.close();
    upstream.destroy();
    client.destroy();
    r.onClose();
  };

  async function dataFrame(f: Frame): Promise<boolean> {
    if (f.opcode !== OPCODE.continuation) {
      if (message !== undefined) return fail(1002, 'a new message began before the previous one ended');
      message = { compressed: f.rsv1, bytes: 0 };
    } else if (message === undefined) return fail(1002, 'a continuation frame without a message');
    message.bytes += f.payload.length;
    if (message.bytes > limits.maxMessageBytes) return fail(1009, `message longer than ${limits.maxMessageBytes} bytes`);
    let plain: Buffer = f.payload;
    if (message.compressed) {
      const out = await (inflater?.push(f.payload, f.fin) ?? Promise.resolve('compressed frame without permessage-deflate'));
      if (typeof out === 'string') return fail(1009, out);
      plain = out;
    }
    const found = await scan(ctx, sc, (s) => s.websocketFrame(sc, 'up', plain));
    if (found !== undefined) return fail(1008, 'the message carries a secret (DLP); the connection was closed and the frame not sent');
    if (f.fin) message = undefined;
    return true;
  }

  function fail(code: number, reason: string): false {
    if (code !== 1008) ctx.log(`websocket ${sc.subject}: ${reason}`);
    close(code, reason);
    return false;
  }

  async function pump(): Promise<void> {
    if (busy || closed) return;
    busy = true;
    client.pause();
    try {
      for (;;) {
        const step = reader.next();
        if (step.kind === 'more') break;
        if (step.kind === 'error') {
          fail(step.code, step.reason);
          return;
        }
        const f = step.frame;
        if (!isControl(f.opcode) && !(await dataFrame(f))) return;
        if (closed) return;
        if (!upstream.write(f.raw)) await new Promise<void>((resolve) => upstream.once('drain', resolve));
      }
    } catch (e) {
      fail(1011, `internal error (${e instanceof Error ? e.message : 'error'})`);
      return;
    } finally {
      busy = false;
    }
    if (!closed) client.resume();
  }

  for (const s of [client, upstream]) {
    s.setNoDelay(true);
    s.setTimeout(ctx.limits.idleTimeoutMs, () => close(1001, 'idle timeout'));
    s.on('error', end);
    s.on('close', end);
  }
  client.on('data', (c: Buffer) => {
    reader.push(c);
    void pump();
  });
  if (r.upstreamHead.length > 0) client.write(r.upstreamHead);
  upstream.pipe(client);
  if (r.clientHead.length > 0) {
    reader.push(r.clientHead);
    void pump();
  }
}
