/**
 * Streamable HTTP resumption through `cordon mcp serve` (a real process in
 * front of server-everything over stdio), with the real SDK client: the
 * client's connections go through a loopback relay the test cuts in the
 * middle of a long-running call; the client comes back with `Last-Event-ID`
 * and gets every progress event once, in order, and the result.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { cordonAsync } from '../cli-helpers.js';
import { EVERYTHING, makeEnv, type Env } from './helpers.js';
import { textOf } from './http-helpers.js';

/**
 * A TCP relay whose open connections can be cut at once: on [::1] with the
 * gateway's own port number, so the Host the client sends is one the
 * gateway accepts.
 */
async function cuttable(port: number): Promise<{ port: number; cut(): number; close(): Promise<void> }> {
  const open = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(port, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '::1', () => resolve());
  });
  const a = server.address();
  return {
    port: typeof a === 'object' && a !== null ? a.port : 0,
    cut: () => {
      const n = open.size;
      for (const s of open) s.destroy();
      return n;
    },
    close: () => new Promise<void>((r) => {
      for (const s of open) s.destroy();
      server.close(() => r());
    }),
  };
}

void describe('cordon mcp serve: a client resumes its event streams with Last-Event-ID', () => {
  let env: Env;
  let serve: ReturnType<typeof cordonAsync>;
  let relay: Awaited<ReturnType<typeof cuttable>>;
  let url = '';
  let token = '';
  let client: Client;
  before(async () => {
    env = makeEnv('version: 1\npermissions:\n  allow: [mcp__everything__trigger-long-running-operation]\n');
    serve = cordonAsync(['mcp', 'serve', '--name', 'everything', '--no-sandbox', '--', process.execPath, EVERYTHING, 'stdio'], env.workspace, { XDG_STATE_HOME: env.state, HOME: env.base });
    let out = '';
    while (!out.includes('\n')) {
      const [chunk] = (await Promise.race([once(serve.child.stdout, 'data'), serve.done.then((r) => { throw new Error(`serve exited ${r.status}: ${r.stderr}`); })])) as [Buffer];
      out += chunk.toString();
    }
    ({ url, token } = JSON.parse(out.split('\n')[0] ?? '') as { url: string; token: string });
    relay = await cuttable(Number(new URL(url).port));
    client = new Client({ name: 'cordon-resume-test', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://[::1]:${relay.port}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
      reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 500, reconnectionDelayGrowFactor: 1.5, maxRetries: 10 },
    }));
    client.onerror = () => undefined; // the cut is reported as a stream error; the client reconnects
  });
  after(async () => {
    await client.close();
    await relay.close();
    serve.child.kill('SIGTERM');
    await serve.done;
    env.cleanup();
  });

  void it('a call whose stream is cut mid-way gets every progress event once, in order, and its result', async () => {
    const progress: number[] = [];
    let cuts = 0;
    const result = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 2, steps: 8 } }, undefined, {
      timeout: 30_000,
      onprogress: (p) => {
        progress.push(p.progress);
        if (p.progress === 2) cuts = relay.cut(); // the steps of the next second happen while the client is away
      },
    });
    assert.ok(cuts > 0, 'the relay had connections to cut');
    assert.match(textOf(result), /Long running operation completed/);
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  void it('a Last-Event-ID cordon never issued (or no longer keeps) is refused', async () => {
    for (const id of ['p999:1', 'not-an-id']) {
      const r = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-session-id': 'x', 'last-event-id': id } });
      assert.equal(r.status, 404);
      await r.body?.cancel();
    }
  });
});
