/**
 * Gaps the MCP gateway's work found, closed in the engine: Basic credentials, assignments under base64, the
 * generic value's end at a query separator, credential-named query parameters. Both sides each time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DlpScanner } from '../../src/dlp/scanner.js';
import { scanHeaders, scanJsonValue, scanUrl } from '../../src/dlp/structured.js';
import { isQueryCredentialName } from '../../src/dlp/query-credentials.js';

const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true });
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const ids = (fs: readonly { detector: string }[]): string[] => [...new Set(fs.map((f) => f.detector))].sort();
const PW = 'Vq7Lk2Xw9Rz4Tn8M';

void describe('Basic credentials', () => {
  void it('a header, a JSON string, text and URL userinfo with a real password are findings', () => {
    assert.deepEqual(ids(scanHeaders(scanner, ['Authorization', `Basic ${b64(`deploy:${PW}`)}`])), ['basic-auth-credentials']);
    assert.deepEqual(ids(scanHeaders(scanner, ['Proxy-Authorization', `basic ${b64('jenkins:hunter22')}`])), ['basic-auth-credentials']);
    assert.deepEqual(ids(scanJsonValue(scanner, { headers: { authorization: `Basic ${b64('svc-bot:correct horse battery')}` } }, 'body')), ['basic-auth-credentials']);
    // The scheme in any case, in an authorization field (the detector's keyword is `Basic ` only).
    assert.deepEqual(ids(scanHeaders(scanner, ['authorization', `BASIC ${b64(`ops:${PW}`)}`])), ['basic-auth-credentials']);
    assert.deepEqual(ids(scanJsonValue(scanner, { request: { headers: { Authorization: `basic ${b64(`ops:${PW}`)}` } } }, 'body')), ['basic-auth-credentials']);
    assert.deepEqual(ids(scanner.scanText(`curl -H "Authorization: Basic ${b64(`admin:${PW}`)}" https://ci.example.com`, '')), ['basic-auth-credentials']);
    assert.deepEqual(ids(scanner.scanText(`Authorization: Basic ${Buffer.from(`u:${PW}??>`).toString('base64url')}`, '')), ['basic-auth-credentials']);
    assert.ok(ids(scanUrl(scanner, `https://alice:${PW}@git.example.com/repo.git`)).includes('basic-auth-url'));
    assert.ok(ids(scanJsonValue(scanner, { remote: `https://alice:${PW}@git.example.com/repo.git` }, 'args')).includes('basic-auth-url'));
  });
  void it('documentation examples, placeholders, empty passwords and prose are not', () => {
    for (const v of ['Basic dXNlcjpwYXNz', 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==', `Basic ${b64('user:password')}`, `Basic ${b64('username:password')}`, `Basic ${b64('apikey:')}`, `Basic ${b64('user:${PASSWORD}')}`, `Basic ${b64('admin:admin')}`, `Basic ${b64('user:<password>')}`, `Basic ${b64('user:YOUR_PASSWORD')}`, 'Basic realm="Access to the staging site", charset="UTF-8"', 'Basic $(echo -n "$USER:$PASS" | base64)']) {
      assert.deepEqual(ids(scanHeaders(scanner, ['Authorization', v])), [], v);
    }
    for (const v of ['basic dXNlcjpwYXNz', `BASIC ${b64('user:password')}`, 'basic realm="x"']) assert.deepEqual(ids(scanHeaders(scanner, ['Authorization', v])), [], v);
    assert.deepEqual(ids(scanJsonValue(scanner, { note: `basic ${b64(`ops:${PW}`)}` }, 'body')).filter((d) => d === 'basic-auth-credentials'), [], 'lower-case basic outside an authorization field: not read (documented)');
    for (const t of ['Basic authentication sends the credentials base64-encoded: see RFC 7617.', 'basic information about deployment environments', 'The Basic plan includes unlimited collaborators.']) assert.deepEqual(ids(scanner.scanText(t, '')), [], t);
    for (const u of ['https://user:password@example.com/', 'https://git@github.com/org/repo.git', 'https://user:${TOKEN}@example.com/x']) assert.deepEqual(ids(scanUrl(scanner, u)).filter((d) => d !== 'url-query-credential'), [], u);
  });
});

void describe('assignments under base64 go through the same detectors', () => {
  void it('base64 of a password assignment is found as the plain text is, at the same confidence', () => {
    for (const text of [`password=${PW}Yd3K`, `DB_PASSWORD="${PW}Yd3K"`, `api_key: ${PW}Yd3K`]) {
      const plain = scanner.scanText(text, '').filter((f) => f.detector === 'generic-secret');
      const enc = scanner.scanText(`data: ${b64(text)}`, '').filter((f) => f.detector === 'generic-secret');
      assert.equal(plain.length, 1, text);
      assert.deepEqual(enc.map((f) => [f.confidence, f.sample, f.location.layers]), plain.map((f) => [f.confidence, f.sample, ['base64']]), text);
    }
  });
  void it('base64 of references, prose and code is not', () => {
    for (const text of ['password=${DB_PASSWORD}', 'The password must be at least twelve characters long.', 'const token = getToken(request.headers);']) assert.deepEqual(ids(scanner.scanText(`data: ${b64(text)}`, '')), [], text);
  });
});

void describe('a generic value ends at the query separator', () => {
  void it('the sample is the value, not the next parameter', () => {
    const v = `${PW}Yd3K`;
    const fs = scanner.scanText(`https://example.com/login?password=${v}&user=x&next=/home`, 'url').filter((f) => f.detector === 'generic-secret');
    assert.equal(fs.length, 1);
    assert.equal(fs[0]?.sample, `${v.slice(0, 4)}…${v.slice(-4)}`);
    assert.equal(fs[0]?.location.length, v.length);
  });
  void it('an & inside a value that no parameter follows stays in the value', () => {
    const v = 'Tq8w&Z3nR5yK1mP7xWv9';
    const fs = scanner.scanText(`secret = "${v}"`, '').filter((f) => f.detector === 'generic-secret');
    assert.equal(fs[0]?.location.length, v.length);
  });
});

void describe('credential-named query parameters', () => {
  void it('a literal password, secret, api key or token in a query is a finding whatever it looks like', () => {
    for (const u of ['https://example.com/login?user=bob&password=hunter2hunter2', 'https://example.com/api?passwd=summer2024!', 'https://hooks.example.com/x?secret=orange-tractor-42', `https://api.example.com/v1/data?api_key=${PW}`, `https://api.example.com/v1/data?apiKey=${PW}`, 'https://example.com/feed?token=weatherstationalpha7', `https://example.com/cb?client_secret=${PW}&client_id=abc`, 'https://example.com/deploy?SECRET_KEY_BASE=notrandombutlongvalue', 'https://example.com/x?user%5Bpassword%5D=hunter2hunter2']) {
      assert.ok(ids(scanUrl(scanner, u)).some((d) => d === 'url-query-credential' || d === 'generic-secret'), u);
    }
    assert.deepEqual(ids(scanUrl(scanner, 'https://example.com/login?password=hunter2hunter2')), ['url-query-credential']);
  });
  void it('OAuth and OIDC flows, cursors, one-time links, pre-signed URLs, badges, placeholders pass', () => {
    for (const u of [
      'https://accounts.google.com/o/oauth2/v2/auth?client_id=123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&response_type=code&scope=openid%20email&state=af0ifjsldkj&nonce=n-0S6_WzA2Mj&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256',
      'https://app.example.com/callback?code=4/0AX4XfWh7Yz2kLmNpQrStUvWxYz0123456789abcdef&state=af0ifjsldkj&scope=email%20openid',
      'https://github.com/login/oauth/authorize?client_id=Iv1.8a61f9b3a7aba766&redirect_uri=http://localhost:8080/cb&state=9f8e7d6c5b4a',
      'https://login.microsoftonline.com/common/oauth2/v2.0/logout?id_token_hint=abc.def.ghi&post_logout_redirect_uri=https%3A%2F%2Fapp.example.com',
      'https://oauth2.googleapis.com/revoke?token_type_hint=refresh_token',
      'https://www.googleapis.com/drive/v3/files?pageToken=CkYKEgoQZmlsZV9pZF8xMjM0NTY3OBIwCgw&pageSize=100',
      'https://api.example.com/v1/items?next_token=eyJvZmZzZXQiOjEwMH0&limit=50',
      'https://example.com/users/password/edit?reset_password_token=Xk9mQ2vL7pR4wZ8nB3tY',
      'https://example.com/users/invitation/accept?invitation_token=Ab3dEf6hIj9kLm2nOp5q',
      'https://bucket.s3.amazonaws.com/file.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAXXXX%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr2Fake0Session1Token2Value3&X-Amz-Signature=abcdef0123456789',
      'https://codecov.io/gh/org/repo/branch/main/graph/badge.svg?token=lWZ9OBQ7GM',
      'https://example.com/login?password=${PASSWORD}&user=${USER}',
      'https://example.com/login?password=%3Cpassword%3E',
      'https://example.com/settings?show_password=true&password_min_length=12&token_ttl=3600',
      'https://example.com/search?q=reset+my+password&type=docs',
      'https://example.com/x?csrf_token=Xk9mQ2vL7pR4wZ8nB3tY&authenticity_token=Z8nB3tYXk9mQ2vL7pR4w',
    ]) {
      assert.deepEqual(ids(scanUrl(scanner, u)).filter((d) => d === 'url-query-credential'), [], u);
    }
  });
  void it('a random cursor, one-time or anti-forgery token in a query is not a generic secret; a random credential-named one is', () => {
    const R = 'CkYKEgoQZmlsZV9pZF8xMjM0NTY3OBIwCgw';
    for (const n of ['pageToken', 'next_page_token', 'nextToken', 'csrf_token', 'X-Amz-Security-Token', 'continuationToken']) {
      assert.deepEqual(ids(scanUrl(scanner, `https://api.example.com/v1/items?${n}=${R}&limit=50`)), [], n);
    }
    for (const n of ['token', 'access_token', 'api_token', 'secret']) assert.ok(ids(scanUrl(scanner, `https://api.example.com/v1/items?limit=50&${n}=${R}`)).length > 0, n);
  });
  void it('names: credentials and the names that only look like them', () => {
    for (const n of ['password', 'passwd', 'pwd', 'secret', 'client_secret', 'api_key', 'apiKey', 'api-key', 'apikey', 'token', 'access_token', 'auth_token', 'refresh_token', 'private_key']) assert.ok(isQueryCredentialName(n), n);
    for (const n of ['code', 'state', 'client_id', 'redirect_uri', 'pageToken', 'next_token', 'csrf_token', 'token_type_hint', 'id_token_hint', 'X-Amz-Security-Token', 'reset_password_token', 'key', 'password_min_length', 'token_ttl', 'bypass']) assert.ok(!isQueryCredentialName(n), n);
  });
});
