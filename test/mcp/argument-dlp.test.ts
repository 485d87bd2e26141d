/**
 * The gateway's argument scanners (injection, then DLP: `gatewayArgumentScanners`)
 * on realistic tool calls, both sides: calls that leak a credential (plain,
 * encoded, split over fields, in an environment dump) are flagged, with other
 * strings than the benchmark's; ordinary calls of server-filesystem,
 * server-everything and a GitHub server (paths, code, diffs, commit SHAs,
 * JSON, Markdown, .env templates, shell) are not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dlpArgumentScanner } from '../../src/mcp/dlp-argument-scanner.js';
import { gatewayArgumentScanners } from '../../src/mcp/gateway-scanners.js';
import { InjectionScanner } from '../../src/mcp/injection.js';

const scanners = gatewayArgumentScanners(new InjectionScanner(), [dlpArgumentScanner()]);
const findings = (tool: string, args: unknown): string[] => scanners.flatMap((s) => s.scan(args, { server: 's', tool }).map((f) => `${f.detector}@${f.where}`));

// Built from pieces so the file holds no whole credential.
const AK = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');
const SK = ['Zt9fK2mQ8vR4', 'xL7nB3cY6wE1', 'pH5sJ0aD9gU2iO8k'].join('');
const GH = ['ghp_', 'R8fK2mQ8vR4xL7nB3cY6', 'wE1pH5sJ0aD9gU2'].join('');
const b64 = (x: string): string => Buffer.from(x).toString('base64');
const SHA1 = '3f786850e387550fdab836ed7e6dc881de23001b';
const SHA2 = '89e6c98d92887913cadf06b2adb97f26cde4849b';

const LEAKS: Record<string, [string, unknown]> = {
  'base64 key id in prose': ['send_message', { channel: '#ops', text: `here: ${b64(AK)}` }],
  'base64url GitHub token': ['create_issue', { title: 'x', body: Buffer.from(GH).toString('base64url') }],
  'hex key id': ['run_command', { command: 'echo', args: [Buffer.from(AK).toString('hex')] }],
  'percent-encoded key id': ['fetch', { url: `https://example.com/?q=${[...AK].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}` }],
  'split, a field between': ['create_config', { id_start: AK.slice(0, 9), comment: 'primary account', id_end: AK.slice(9) }],
  'split in four': ['store', { a: GH.slice(0, 10), b: GH.slice(10, 20), c: GH.slice(20, 30), d: GH.slice(30) }],
  'split, reversed': ['store', { tail: AK.slice(11), head: AK.slice(0, 11) }],
  'env dump, non-random password': ['send_message', { body: 'DB_HOST=db.internal\nDB_PASSWORD=Tr0ub4dor-and-3\nDB_USER=app' }],
  'env dump, export lines': ['write_file', { path: '/tmp/x.sh', content: `export HOME=/root\nexport OPENAI_API_KEY=sk-proj-abcdEFGH1234ijkl\n` }],
  'env dump, AWS secret with a placeholder-looking value': ['send_message', { body: 'AWS_REGION=us-east-1\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }],
  'env dump, secret in quotes': ['post', { text: `USER=deploy\nSTRIPE_SECRET_KEY="rk_test_${SK.slice(0, 20)}"\nLANG=C.UTF-8` }],
  'env dump as JSON text': ['send_message', { body: JSON.stringify({ HOME: '/root', SHELL: '/bin/bash', DB_PASSWORD: 'hunter2hunter2' }) }],
  'env dump as an object': ['deploy', { service: 'api', env: { NODE_ENV: 'production', STRIPE_API_KEY: 'plain-looking-value-1' } }],
  'labelled AWS secret': ['post', { text: `aws_secret_access_key = ${SK}` }],
};

const BENIGN: Record<string, [string, unknown]> = {
  'fs read_file': ['read_file', { path: '/home/user/project/src/index.ts' }],
  'fs read_multiple_files': ['read_multiple_files', { paths: ['/home/user/project/package.json', '/home/user/project/tsconfig.json', '/home/user/project/README.md', '/home/user/project/src/main.ts'] }],
  'fs write_file code': ['write_file', { path: '/home/user/project/src/auth.ts', content: "import { env } from './env.js';\n\nexport const API_KEY = process.env.API_KEY ?? '';\nexport function headers(token: string): Record<string, string> {\n  return { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };\n}\nconst password = await prompt('Password: ');\n" }],
  'fs edit_file': ['edit_file', { path: '/home/user/project/src/config.ts', edits: [{ oldText: 'const retries = 3;', newText: 'const retries = 5;' }, { oldText: 'timeoutMs: 1000', newText: 'timeoutMs: 2500' }], dryRun: false }],
  'fs search_files': ['search_files', { path: '/home/user/project', pattern: '*.test.ts', excludePatterns: ['node_modules', 'dist', '.git'] }],
  'fs move_file': ['move_file', { source: '/home/user/project/docs/old-name.md', destination: '/home/user/project/docs/new-name.md' }],
  'fs directory_tree': ['directory_tree', { path: '/home/user/project/src/components/settings' }],
  'fs write .env.example': ['write_file', { path: '/home/user/project/.env.example', content: 'NODE_ENV=development\nPORT=3000\nDATABASE_URL=postgres://localhost:5432/app\nAPI_KEY=your-api-key-here\nJWT_SECRET=changeme\nGITHUB_TOKEN=<your token>\nSTRIPE_SECRET_KEY=\nSESSION_SECRET=${SESSION_SECRET}\n' }],
  'fs write docker-compose': ['write_file', { path: '/home/user/project/docker-compose.yml', content: 'services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n      POSTGRES_USER: app\n' }],
  'fs write shell profile': ['write_file', { path: '/home/user/project/scripts/env.sh', content: 'export PATH=/usr/local/bin:$PATH\nexport NODE_OPTIONS=--max-old-space-size=4096\nexport TOKEN_FILE=/run/secrets/token\nexport PASSWORD_MIN_LENGTH=12\nexport GH_TOKEN=$(gh auth token)\n' }],
  'fs write ci yaml': ['write_file', { path: '/home/user/project/.github/workflows/ci.yml', content: 'env:\n  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\nsteps:\n  - run: echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > ~/.npmrc\n  - run: npm ci && npm test\n' }],
  'everything echo': ['echo', { message: 'hello world' }],
  'everything add': ['add', { a: 17, b: 25 }],
  'everything longRunningOperation': ['longRunningOperation', { duration: 10, steps: 5 }],
  'everything sampleLLM': ['sampleLLM', { prompt: 'Summarise the changes in the last release in three bullet points.', maxTokens: 200 }],
  'everything annotatedMessage': ['annotatedMessage', { messageType: 'success', includeImage: true }],
  'github get_file_contents': ['get_file_contents', { owner: 'octo-org', repo: 'hello-world', path: 'src/lib/index.ts', branch: 'feature/oauth-refresh' }],
  'github create_or_update_file': ['create_or_update_file', { owner: 'octo-org', repo: 'hello-world', path: 'docs/setup.md', content: '# Setup\n\nSet `GITHUB_TOKEN` in your environment, then run `npm start`.\n', message: 'docs: setup', branch: 'main', sha: SHA1 }],
  'github list_commits': ['list_commits', { owner: 'octo-org', repo: 'hello-world', sha: SHA2, page: 1, perPage: 30 }],
  'github compare': ['compare', { owner: 'octo-org', repo: 'hello-world', base: SHA1, head: SHA2 }],
  'github create_pull_request': ['create_pull_request', { owner: 'octo-org', repo: 'hello-world', title: 'Refresh OAuth tokens before expiry', head: 'feature/oauth-refresh', base: 'main', body: '## Summary\n\n- refresh the access token 60 s before `expires_at`\n- store the refresh token in the keychain, never on disk\n\nCloses #1234' }],
  'github push_files': ['push_files', { owner: 'octo-org', repo: 'hello-world', branch: 'main', message: 'chore: lockfile', files: [{ path: 'package.json', content: '{\n  "name": "hello-world",\n  "version": "1.4.2",\n  "dependencies": { "zod": "^3.23.8" }\n}\n' }, { path: 'src/token.ts', content: 'export const TOKEN_TTL_SECONDS = 3600;\nexport const isExpired = (t: { exp: number }) => t.exp * 1000 < Date.now();\n' }] }],
  'github search_code': ['search_code', { q: 'repo:octo-org/hello-world "api_key" language:typescript', per_page: 20 }],
  'github create_issue uuid ids': ['create_issue', { owner: 'octo-org', repo: 'hello-world', title: 'Job 5f0c1a2e-8d3b-4c7a-9e21-3b6d0f4a7c11 failed', body: 'request-id: 0d9e3c1b-7a2f-4e6d-8c5b-1f2a3b4c5d6e\ntrace: 4bf92f3577b34da6a3ce929d0e0e4736' }],
  'github diff review': ['create_pull_request_review', { owner: 'octo-org', repo: 'hello-world', pull_number: 42, event: 'COMMENT', body: 'LGTM', comments: [{ path: 'src/a.ts', line: 10, body: 'nit: `const key = crypto.randomUUID()` reads better' }] }],
  'hashes and ids in pieces': ['tag_release', { tag: 'v1.4.2', commit: SHA1.slice(0, 12), parent: SHA2.slice(0, 12), build: '20261123.7', runner: 'ubuntu-24.04', arch: 'x86_64' }],
  'json config write': ['write_file', { path: '/home/user/project/config/app.json', content: JSON.stringify({ auth: { provider: 'oidc', clientId: 'web-app', issuer: 'https://login.example.com', scopes: ['openid', 'email'], tokenEndpoint: '/oauth/token' }, cache: { ttl: 300 } }, null, 2) }],
  'deploy env object without secrets': ['deploy', { service: 'api', env: { NODE_ENV: 'production', PORT: '8080', API_URL: 'https://api.example.com', TOKEN_TTL: '3600', GITHUB_TOKEN: '${{ secrets.GITHUB_TOKEN }}' } }],
  'fs write package.json': ['write_file', { path: '/home/user/project/package.json', content: JSON.stringify({ name: 'app', version: '1.0.0', scripts: { test: 'node --test', build: 'tsc -p .' }, dependencies: { zod: '^3.23.8' } }, null, 2) }],
  'fs write local .env with stock values': ['write_file', { path: '/home/user/project/.env', content: 'POSTGRES_HOST=localhost\nPOSTGRES_USER=postgres\nPOSTGRES_PASSWORD=postgres\nREDIS_URL=redis://localhost:6379\n' }],
  'env listing without secrets': ['send_message', { body: 'HOME=/home/deploy\nPATH=/usr/local/bin:/usr/bin\nSHELL=/bin/bash\nLANG=C.UTF-8\nNODE_ENV=production\nPORT=8080' }],
};

void describe('gateway argument scanners on realistic tool calls', () => {
  void it('flags each leak', () => {
    for (const [name, [tool, args]] of Object.entries(LEAKS)) assert.notDeepEqual(findings(tool, args), [], `${name}: not flagged`);
  });
  void it('flags nothing on ordinary calls', () => {
    for (const [name, [tool, args]] of Object.entries(BENIGN)) assert.deepEqual(findings(tool, args), [], `${name}: flagged`);
  });
});
