import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DlpScanner } from '../../src/dlp/scanner.js';
import { B62, fake, fakePem, HEX, mixed, rand } from './helpers.js';

const scanner = new DlpScanner({ decode: false });
const ids = (text: string): string[] => scanner.scanText(text, 't').map((f) => f.detector);

/** [detector, text with the secret in realistic surroundings]. */
const TRUE_POSITIVES: [string, () => string][] = [
  ['aws-access-key-id', () => `[default]\naws_access_key_id = ${fake.awsId()}\nregion = us-east-1\n`],
  ['aws-secret-access-key', () => `export AWS_SECRET_ACCESS_KEY=${fake.awsSecret()}\n`],
  ['gcp-api-key', () => `{"apiKey": "AIza${rand(35, `${B62}_-`)}", "authDomain": "example.firebaseapp.com"}`],
  ['gcp-oauth-client-secret', () => `client_secret: GOCSPX-${rand(28)}`],
  ['gcp-service-account-key', () => JSON.stringify({ type: 'service_account', project_id: 'example', private_key: `${fakePem('PRIVATE KEY')}\n` }, null, 2)],
  ['azure-storage-account-key', () => `DefaultEndpointsProtocol=https;AccountName=example;AccountKey=${rand(86, `${B62}+/`)}==;EndpointSuffix=core.windows.net`],
  ['azure-shared-access-key', () => `Endpoint=sb://example.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=${rand(43, `${B62}+/`)}=`],
  ['azure-sas-token', () => `https://example.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01&sig=${rand(43, `${B62}%`)}`],
  ['anthropic-api-key', () => `ANTHROPIC_API_KEY="${fake.anthropic()}"`],
  ['openai-api-key', () => `2026-01-01T00:00:00Z INFO using key ${fake.openai()} for completions`],
  ['huggingface-token', () => `$ huggingface-cli login --token hf_${rand(34, B62.slice(0, 52))}`],
  ['groq-api-key', () => `GROQ_API_KEY: gsk_${rand(52)}`],
  ['github-token', () => `$ git clone https://x-access-token:${fake.github()}@github.com/o/r.git`],
  ['github-fine-grained-pat', () => `token: github_pat_11${rand(20)}_${rand(59)}`],
  ['gitlab-token', () => `PRIVATE-TOKEN: glpat-${rand(20)}`],
  ['npm-access-token', () => `//registry.npmjs.org/:_authToken=${fake.npm()}`],
  ['pypi-api-token', () => `[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc${rand(80, `${B62}_-`)}`],
  ['slack-token', () => `curl -H "Authorization: Bearer ${fake.slack()}" https://slack.com/api/auth.test`],
  ['slack-webhook', () => `SLACK_WEBHOOK=https://hooks.slack.com/services/T${rand(8)}/B${rand(8)}/${rand(24)}`],
  ['stripe-secret-key', () => `stripe:\n  secret: ${fake.stripe()}\n`],
  ['sendgrid-api-key', () => `SENDGRID_API_KEY='SG.${rand(22)}.${rand(43)}'`],
  ['twilio-auth-token', () => `TWILIO_AUTH_TOKEN=${rand(32, HEX)}`],
  ['shopify-token', () => `X-Shopify-Access-Token: shpat_${rand(32, HEX)}`],
  ['linear-api-key', () => `LINEAR_API_KEY=lin_api_${rand(40)}`],
  ['notion-token', () => `NOTION_TOKEN=ntn_${rand(11, '0123456789')}${rand(35)}`],
  ['vercel-token', () => `VERCEL_TOKEN=vcp_${rand(40)}`],
  ['cloudflare-api-token', () => `CLOUDFLARE_API_TOKEN=cfat_${rand(40)}${rand(8, HEX)}`],
  ['databricks-token', () => `{"host": "https://example.cloud.databricks.com", "token": "dapi${rand(32, HEX)}"}`],
  ['onepassword-service-account-token', () => `OP_SERVICE_ACCOUNT_TOKEN=ops_${Buffer.from(JSON.stringify({ signInAddress: 'example.1password.com', email: 'x@example.com', secretKey: rand(40), srpX: rand(64, HEX) })).toString('base64url')}`],
  ['tailscale-key', () => `TS_AUTHKEY=tskey-auth-${rand(12)}-${rand(32)}`],
  ['vault-token', () => `export VAULT_TOKEN=hvs.${rand(90, `${B62}_-`)}`],
  ['grafana-token', () => `Authorization: Bearer glsa_${rand(32)}_${rand(8, HEX)}`],
  ['figma-token', () => `X-Figma-Token: figd_${rand(40, `${B62}_-`)}`],
  ['docker-pat', () => `echo dckr_pat_${rand(27)} | docker login -u example --password-stdin`],
  ['mistral-api-key', () => `MISTRAL_API_KEY=${mixed(32)}`],
  ['cohere-api-key', () => `COHERE_API_KEY: ${mixed(40)}`],
  ['jwt', () => `{"level":"debug","msg":"session ${fake.jwt()} issued"}`],
  ['bearer-token', () => `> GET /v1/items HTTP/1.1\n> Authorization: Bearer ${mixed(40)}\n`],
  ['private-key', () => fakePem()],
  ['private-key', () => JSON.stringify({ key: fakePem('PRIVATE KEY') })],
  ['private-key', () => fakePem('OPENSSH PRIVATE KEY')],
  ['putty-private-key', () => `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: example\nPublic-Lines: 2\n${rand(64, `${B62}+/`)}\n${rand(20)}\nPrivate-Lines: 1\n${rand(44, `${B62}+/`)}\nPrivate-MAC: ${rand(64, HEX)}\n`],
  ['database-url-password', () => `DATABASE_URL=postgres://app:${mixed(18)}@db.internal:5432/app`],
  ['basic-auth-url', () => `$ curl https://deploy:${mixed(16)}@ci.example.com/hook`],
  ['npmrc-auth-token', () => `//npm.pkg.github.com/:_authToken=${rand(40, `${HEX}`)}`],
  ['generic-secret', () => `app:\n  client_secret: "${mixed(32)}"\n`],
  ['secp256k1-private-key', () => `const wallet = new Wallet("0x${rand(64, HEX)}");`],
];

/** Texts with no secret that look like one to a naive scanner. */
const FALSE_POSITIVES: [string, string][] = [
  ['env var reference', 'AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}\nGITHUB_TOKEN=$GITHUB_TOKEN\n'],
  ['code reading a secret', 'const apiKey = process.env.OPENAI_API_KEY;\napi_key = os.environ.get("API_KEY")\n'],
  ['placeholder url', 'DATABASE_URL=postgres://user:password@localhost:5432/db\nurl: https://${USER}:${PASS}@example.com\n'],
  ['documentation words', 'password: changeme\ntoken: your_token_here\nsecret = "<your secret>"\n'],
  ['publishable stripe key', 'STRIPE_PUBLISHABLE_KEY=pk_live_AAAAAAAAAAAAAAAAAAAAAAAA\n'],
  ['git sha and uuid', 'commit 2f5d0c1b9a8e7d6c5b4a39281706f5e4d3c2b1a0\nid: 550e8400-e29b-41d4-a716-446655440000\n'],
  ['type annotation', 'declare function isArrowToken(token: CommentOrToken): token is ArrowToken;\n'],
  ['short bearer', 'Authorization: Bearer mF_9.B5f-4.1JqM\n'],
  ['identifier phrase', 'DOCKER_TOKEN=not_a_real_token\n'],
  ['placeholder pem', '-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n'],
  ['prefix glued to a word', `mydapi${rand(32, HEX)}\nxhf_${rand(34, B62.slice(0, 52))}\n`],
  ['too long for its format', `gsk_${rand(60)}\n`],
  ['hashes in a lockfile', `"integrity": "sha512-${rand(86, `${B62}+/`)}=="\n`],
  ['urls without credentials', 'https://api.github.com/repos/o/r?state=open\nmongodb://localhost:27017/db\n'],
];

void describe('detectors: true positives in realistic surroundings', () => {
  for (const [id, make] of TRUE_POSITIVES) {
    void it(`${id}`, () => {
      const text = make();
      const found = scanner.scanText(text, 't');
      assert.ok(found.some((f) => f.detector === id), `expected ${id} in ${JSON.stringify(text.slice(0, 80))}, got ${found.map((f) => f.detector).join(',') || 'nothing'}`);
      for (const f of found) assert.ok(!text.includes(f.sample.replace('…', '')) || f.sample.length <= 9, `sample ${f.sample} must be redacted`);
    });
  }
});

void describe('detectors: false positives', () => {
  for (const [name, text] of FALSE_POSITIVES) {
    void it(name, () => {
      assert.deepEqual(ids(text), []);
    });
  }
});

void describe('detector details', () => {
  void it('a GitHub token with a valid CRC32 is high confidence, a wrong checksum medium', () => {
    const good = fake.github();
    const bad = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
    assert.equal(scanner.scanText(good, 't')[0]?.confidence, 'high');
    assert.equal(scanner.scanText(bad, 't')[0]?.confidence, 'medium');
  });
  void it('an AWS key id next to a 40-character secret makes both high confidence', () => {
    const f = scanner.scanText(`id=${fake.awsId()} key=${fake.awsSecret()}`, 't');
    assert.deepEqual(f.map((x) => [x.detector, x.confidence]), [['aws-access-key-id', 'high'], ['aws-secret-access-key', 'high']]);
  });
  void it('opt-in detectors are off unless enabled; allow-lists drop exact values', () => {
    assert.deepEqual(ids('"AWS_ACCOUNT_ID"=>1234-5678-9012'), []);
    const on = new DlpScanner({ decode: false, enable: ['aws-account-id'] });
    assert.deepEqual(on.scanText('"AWS_ACCOUNT_ID"=>1234-5678-9012', 't').map((f) => f.detector), ['aws-account-id']);
    const token = fake.stripe();
    assert.deepEqual(new DlpScanner({ allow: [token] }).scanText(`k=${token}`, 't'), []);
  });
  void it('findings carry offset and a redacted sample, never the secret', () => {
    const token = fake.github();
    const text = `line one\nGITHUB_TOKEN=${token}\n`;
    const [f] = scanner.scanText(text, 'file.env');
    assert.ok(f !== undefined);
    assert.equal(f.location.offset, text.indexOf(token));
    assert.equal(f.location.length, token.length);
    assert.equal(f.sample, `${token.slice(0, 4)}…${token.slice(-4)}`);
    assert.ok(!JSON.stringify(f).includes(token));
  });
  void it('every detector has an id, a provider, a documented format and keywords', () => {
    const seen = new Set<string>();
    for (const d of scanner.engine.detectors) {
      assert.ok(!seen.has(d.id), d.id);
      seen.add(d.id);
      assert.ok(d.provider.length > 0 && d.format.length > 10 && d.keywords.length > 0, d.id);
    }
  });
});
