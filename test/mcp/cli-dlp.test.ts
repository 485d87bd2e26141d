/**
 * `cordon mcp wrap` through the real CLI, with the real SDK client and
 * server-everything: outbound arguments carrying a credential or one of the
 * user's known secrets are refused (the server never sees them); clean calls pass.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { EVERYTHING, connectThroughCli, makeEnv, type Env, type Wrapped } from './helpers.js';

const POLICY = 'version: 1\npermissions:\n  allow: ["mcp__everything__echo"]\n';

function text(r: unknown): string {
  const c = (r as { content?: { type: string; text?: string }[] }).content ?? [];
  return c.map((x) => x.text ?? '').join('\n');
}

void describe('cordon mcp wrap (real CLI): DLP on tool arguments', () => {
  let env: Env;
  let client: Client;
  let w: Wrapped;
  const secret = `tok-${randomBytes(18).toString('base64url')}`;
  before(async () => {
    env = makeEnv(POLICY);
    w = await connectThroughCli(env, ['--name', 'everything', '--no-sandbox', '--', process.execPath, EVERYTHING, 'stdio'], { DEPLOY_TOKEN: secret });
    client = w.client;
  });
  after(async () => {
    await client.close();
    env.cleanup();
  });

  void it('a clean echo passes', async () => {
    const r = await client.callTool({ name: 'echo', arguments: { message: 'hello' } });
    assert.notEqual(r.isError, true, w.stderr());
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
