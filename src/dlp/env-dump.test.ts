import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEnvDump, findEnvJson, findEnvObject, isCredentialName } from './env-dump.js';

void describe('env dumps', () => {
  void it('names credentials by their parts, not the file or size around them', () => {
    for (const n of ['DB_PASSWORD', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'OPENAI_API_KEY', 'SECRET_KEY_BASE', 'SENTRY_DSN', 'GOOGLE_APPLICATION_CREDENTIALS_JSON', 'SIGNING_KEY']) assert.ok(isCredentialName(n), n);
    for (const n of ['TOKEN_FILE', 'PASSWORD_MIN_LENGTH', 'AWS_ACCESS_KEY_ID', 'DATABASE_URL', 'HOME', 'KEYBOARD', 'BYPASS_CACHE', 'API_URL', 'TOKEN_TTL', 'SECRET_NAME']) assert.ok(!isCredentialName(n), n);
  });
  void it('flags literal values of credential-named variables in a dump of two lines or more', () => {
    assert.deepEqual(findEnvDump('HOME=/root\nDB_PASSWORD=hunter2hunter2\n').map((f) => f.name), ['DB_PASSWORD']);
    assert.deepEqual(findEnvDump('export A=1\nexport GH_TOKEN="abcdefgh12345678"').map((f) => f.name), ['GH_TOKEN']);
    const [f] = findEnvDump('X=1\r\nAPI_KEY=0123456789abcdef0123\r\n');
    assert.ok(f !== undefined && !f.sample.includes('0123456789abcdef0123'), 'the sample is redacted');
  });
  void it('passes references, placeholders, paths, short values and single assignments', () => {
    assert.deepEqual(findEnvDump('A=1\nDB_PASSWORD=${DB_PASSWORD}\nB_TOKEN=$(cat t)\nC_SECRET=%SECRET%\nD_TOKEN={{ secrets.D }}'), []);
    assert.deepEqual(findEnvDump('A=1\nAPI_KEY=<your key>\nJWT_SECRET=changeme\nX_TOKEN=xxxxxxxxxx\nY_TOKEN=your_token_here\nZ_SECRET=********'), []);
    assert.deepEqual(findEnvDump('A=1\nPWD=/home/user/project\nSSH_PASS=short'), []);
    assert.deepEqual(findEnvDump('POSTGRES_USER=postgres\nPOSTGRES_PASSWORD=postgres\nKEYSTORE_PASSWORD=changeit\nDEV_SECRET=development'), []);
    assert.deepEqual(findEnvDump('only one line: DB_PASSWORD=hunter2hunter2 and more text'), []);
    assert.deepEqual(findEnvDump('const x = 1;\nlet password = getPassword();\n'), []);
  });
  void it('reads a text that is one credential assignment and nothing else (12+ characters of literal value)', () => {
    assert.deepEqual(findEnvDump('SECRET_KEY_BASE=thisisnotveryrandombutlongenough\n').map((f) => f.name), ['SECRET_KEY_BASE']);
    assert.deepEqual(findEnvDump('export API_TOKEN="plain-words-token"').map((f) => f.name), ['API_TOKEN']);
    assert.deepEqual(findEnvDump('DB_PASSWORD=hunter22'), [], 'under 12 characters');
    assert.deepEqual(findEnvDump('Set it first:\nDB_PASSWORD=plainwordsonly\nthen run npm start'), [], 'inside a longer text');
    assert.deepEqual(findEnvDump('GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}'), []);
  });
  void it('reads dumps as JSON: objects of NAME keys, in the arguments or in a JSON text', () => {
    assert.deepEqual(findEnvObject({ cfg: { env: { HOME: '/root', DB_PASSWORD: 'hunter2hunter2' } } }).map((f) => f.name), ['DB_PASSWORD']);
    assert.deepEqual(findEnvJson(JSON.stringify({ PATH: '/bin', API_TOKEN: 'plainvalue1234' })).map((f) => f.name), ['API_TOKEN']);
    assert.deepEqual(findEnvObject({ DB_PASSWORD: 'hunter2hunter2' }), [], 'one NAME key is not a dump');
    assert.deepEqual(findEnvObject({ env: { NODE_ENV: 'production', GITHUB_TOKEN: '${{ secrets.GITHUB_TOKEN }}' } }), []);
    assert.deepEqual(findEnvJson('{"name":"x","scripts":{"test":"node --test"}}'), []);
    assert.deepEqual(findEnvJson('{ not json, DB_PASSWORD: 1 }'), []);
  });
});
