/**
 * A scripted stand-in for the Anthropic Messages API (adapted from
 * test/hook/model-server.ts, which src/ cannot import). The agent loop's
 * request (the one that offers tools) is answered with the next scripted
 * `tool_use` block, counted from the tool calls already in the conversation;
 * then with a final text. Every other request gets a short text. Streaming
 * answers follow the documented SSE event sequence.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedCall {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

export interface ToolResult {
  readonly toolUseId: string;
  readonly isError: boolean;
  readonly text: string;
}

export interface ModelServer {
  readonly url: string;
  /** Method and path of every request, in order. */
  readonly seen: string[];
  /** Tool results Claude Code sent back, by tool_use id (`toolu_e2e_<step>`). */
  readonly results: Map<string, ToolResult>;
  close(): Promise<void>;
}

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

const MAX_BODY = 16 * 1024 * 1024;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function blocksOf(message: unknown): Record<string, unknown>[] {
  if (!isRecord(message) || !Array.isArray(message['content'])) return [];
  return message['content'].filter(isRecord);
}

function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.filter(isRecord).map((b) => (typeof b['text'] === 'string' ? b['text'] : '')).join('\n');
  return '';
}

function sse(res: ServerResponse, block: Block, stop: 'end_turn' | 'tool_use'): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': 'req_e2e' });
  const send = (event: string, data: object): boolean => res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  send('message_start', { message: { id: `msg_${Date.now()}`, type: 'message', role: 'assistant', model: 'claude-e2e', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } } });
  if (block.type === 'text') {
    send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: block.text } });
  } else {
    send('content_block_start', { index: 0, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
    send('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
  }
  send('content_block_stop', { index: 0 });
  send('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 5 } });
  send('message_stop', {});
  res.end();
}

function reply(res: ServerResponse, stream: boolean, block: Block, stop: 'end_turn' | 'tool_use'): void {
  if (stream) return sse(res, block, stop);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id: `msg_${Date.now()}`, type: 'message', role: 'assistant', model: 'claude-e2e', content: [block], stop_reason: stop, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 5 } }));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error('request body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startModelServer(script: readonly ScriptedCall[], finalText: string): Promise<ModelServer> {
  const seen: string[] = [];
  const results = new Map<string, ToolResult>();
  const toolNames = new Set(script.map((s) => s.name));
  const server = createServer((req, res) => {
    seen.push(`${req.method ?? '?'} ${req.url ?? '?'}`);
    readBody(req).then((text) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'POST' || path !== '/v1/messages') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'not scripted' } }));
        return;
      }
      const body: unknown = JSON.parse(text);
      if (!isRecord(body)) throw new Error('request body is not an object');
      const stream = body['stream'] === true;
      const tools = Array.isArray(body['tools']) ? body['tools'].filter(isRecord) : [];
      const messages = Array.isArray(body['messages']) ? body['messages'] : [];
      if (!tools.some((t) => typeof t['name'] === 'string' && toolNames.has(t['name']))) {
        reply(res, stream, { type: 'text', text: 'ok' }, 'end_turn');
        return;
      }
      let step = 0;
      for (const m of messages) {
        for (const b of blocksOf(m)) {
          if (b['type'] === 'tool_use') step++;
          if (b['type'] === 'tool_result' && typeof b['tool_use_id'] === 'string') {
            results.set(b['tool_use_id'], { toolUseId: b['tool_use_id'], isError: b['is_error'] === true, text: resultText(b['content']) });
          }
        }
      }
      const next = script[step];
      if (next === undefined) reply(res, stream, { type: 'text', text: finalText }, 'end_turn');
      else reply(res, stream, { type: 'tool_use', id: `toolu_e2e_${step}`, name: next.name, input: next.input }, 'tool_use');
    }).catch((e: unknown) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: String(e) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    results,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
