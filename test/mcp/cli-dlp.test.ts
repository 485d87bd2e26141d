/**
 * `cordon mcp wrap` through the real CLI, with the real SDK client and
 * server-everything: outbound arguments carrying a credential or one of the
 * user's known secrets are refused (the server never sees them); clean calls pass.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { EVERYTHING, ROOT, TSX, makeEnv, type Env } from './helpers.js';

const POLICY = 'version: 1\npermissions:\n  allow: ["mcp__everything__echo"]\n';

function text(r: unknown): string {
  const c = (r as { content?: { type: string; text?: string }[] }).content ?? [];
  return c.map((x) => x.text ?? '').join('\n');
}

void describe('cordon mcp wrap (real CLI): DLP on tool arguments', () => {
  let env: Env;
  let client: Client;
  let stderr = '';
  const secret = `tok-${randomBytes(18).toString('base64url')}`;
  before(async () => {
    env = makeEnv(POLICY);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', TSX, path.join(ROOT, 'src/cli/main.ts'), 'mcp', 'wrap', '--name', 'everything', '--no-sandbox', '--', process.execPath, EVERYTHING, 'stdio'],
      cwd: env.workspace,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: env.base, XDG_STATE_HOME: env.state, CORDON_MANAGED_POLICY: path.join(env.base, 'none.yaml'), XDG_CONFIG_HOME: path.join(env.base, 'xdg'), DEPLOY_TOKEN: secret },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    client = new Client({ name: 'cordon-test', version: '0.0.0' });
    await client.connect(transport);
  });
  after(async () => {
    await client.close();
    env.cleanup();
  });

  void it('a clean echo passes', async () => {
    const r = await client.callTool({ name: 'echo', arguments: { message: 'hello' } });
    assert.notEqual(r.isError, true, stderr);
    assert.match(text(r), /hello/);
  });

  void it('a credential in an argument is refused with an isError result', async () => {
    const key = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');
    const r = await client.callTool({ name: 'echo', arguments: { message: `aws_access_key_id=${key}` } });
    assert.equal(r.isError, true, text(r));
    assert.doesNotMatch(text(r), new RegExp(key), 'the refusal does not echo the secret');
    assert.match(text(r), /aws-access-key-id/);
  });

  void it("one of the user's known secrets, base64-encoded, is refused", async () => {
    const r = await client.callTool({ name: 'echo', arguments: { message: Buffer.from(secret).toString('base64') } });
    assert.equal(r.isError, true, text(r));
    assert.match(text(r), /known-secret/);
  });
});
