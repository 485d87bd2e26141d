/**
 * SigV4 against the documented AWS example values: the Signature Version 4
 * test suite (credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1,
 * service `service`), the S3 "GET Object" example of the S3 API reference,
 * and the S3 presigned-URL example ("Authenticating Requests: Using Query
 * Parameters": GET examplebucket/test.txt, 2013-05-24, 86400 s).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { authorization, canonicalRequest, EMPTY_SHA256, parseAuthorization, parsePresigned, resign, resignPresigned, streamingRefusal, stringToSign } from './sigv4.js';

const SUITE = { accessKeyId: 'AKIDEXAMPLE', secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', amzDate: '20150830T123600Z', region: 'us-east-1', service: 'service' };
const SCOPE = 'Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';
const HOST = ['Host', 'example.amazonaws.com', 'X-Amz-Date', '20150830T123600Z'];

const cases: { name: string; method: string; target: string; headers: string[]; signed: string[]; sig: string }[] = [
  { name: 'get-vanilla', method: 'GET', target: '/', headers: HOST, signed: ['host', 'x-amz-date'], sig: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  { name: 'post-vanilla', method: 'POST', target: '/', headers: HOST, signed: ['host', 'x-amz-date'], sig: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b' },
  { name: 'get-vanilla-query-order-key-case', method: 'GET', target: '/?Param2=value2&Param1=value1', headers: HOST, signed: ['host', 'x-amz-date'], sig: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500' },
  { name: 'get-unreserved', method: 'GET', target: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', headers: HOST, signed: ['host', 'x-amz-date'], sig: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f' },
  { name: 'post-header-value-case', method: 'POST', target: '/', headers: [...HOST, 'My-Header1', 'VALUE1'], signed: ['host', 'my-header1', 'x-amz-date'], sig: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d' },
  { name: 'get-header-value-trim', method: 'GET', target: '/', headers: [...HOST, 'My-Header1', ' value1', 'My-Header2', '"a   b   c"'], signed: ['host', 'my-header1', 'my-header2', 'x-amz-date'], sig: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736' },
];

void describe('SigV4 (AWS test suite vectors)', () => {
  void it('get-vanilla: canonical request and string to sign as documented', () => {
    const c = canonicalRequest({ method: 'GET', target: '/', headers: HOST, signedHeaders: ['host', 'x-amz-date'], payloadHash: EMPTY_SHA256, service: 'service' });
    assert.equal(c, `GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY_SHA256}`);
    const sts = stringToSign('20150830T123600Z', '20150830/us-east-1/service/aws4_request', c);
    assert.equal(sts.split('\n')[3], 'bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63');
  });
  void it('get-vanilla-query-order-key-case: canonical request hash as documented', () => {
    const c = canonicalRequest({ method: 'GET', target: '/?Param2=value2&Param1=value1', headers: HOST, signedHeaders: ['host', 'x-amz-date'], payloadHash: EMPTY_SHA256, service: 'service' });
    assert.equal(c.split('\n')[2], 'Param1=value1&Param2=value2');
    assert.equal(stringToSign('20150830T123600Z', '20150830/us-east-1/service/aws4_request', c).split('\n')[3], '816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0');
  });
  for (const c of cases) {
    void it(`signs ${c.name} as documented`, () => {
      const a = authorization({ ...SUITE, method: c.method, target: c.target, headers: c.headers, signedHeaders: c.signed, payloadHash: EMPTY_SHA256 });
      assert.equal(a, `AWS4-HMAC-SHA256 ${SCOPE}, SignedHeaders=${c.signed.join(';')}, Signature=${c.sig}`);
    });
  }
  void it('signs the S3 API reference example "GET Object" (S3 paths are not encoded again)', () => {
    const headers = ['Host', 'examplebucket.s3.amazonaws.com', 'Range', 'bytes=0-9', 'x-amz-content-sha256', EMPTY_SHA256, 'x-amz-date', '20130524T000000Z'];
    const a = authorization({
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', amzDate: '20130524T000000Z', region: 'us-east-1', service: 's3',
      method: 'GET', target: '/test.txt', headers, signedHeaders: ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'], payloadHash: EMPTY_SHA256,
    });
    assert.match(a, /Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41$/);
  });
  void it('re-signs a request signed with a placeholder secret so that it equals signing with the real secret', () => {
    const body = '{"a":1}';
    const hash = createHash('sha256').update(body).digest('hex');
    const agent = authorization({ ...SUITE, accessKeyId: 'AKIAPLACEHOLDER00001', secret: 'placeholder-secret-placeholder-secret-00', method: 'POST', target: '/x?b=2', headers: HOST, signedHeaders: ['host', 'x-amz-date'], payloadHash: hash });
    const parsed = parseAuthorization(agent);
    assert.ok(parsed);
    assert.equal(parsed.accessKeyId, 'AKIAPLACEHOLDER00001');
    const r = resign('POST', '/x?b=2', HOST, parsed, { accessKeyId: SUITE.accessKeyId, secret: SUITE.secret }, () => hash);
    assert.ok(r.ok);
    assert.equal(r.authorization, authorization({ ...SUITE, method: 'POST', target: '/x?b=2', headers: HOST, signedHeaders: ['host', 'x-amz-date'], payloadHash: hash }));
    assert.notEqual(r.authorization, agent);
  });
  void it('refuses streaming payload signatures and a missing x-amz-date', () => {
    const parsed = parseAuthorization(`AWS4-HMAC-SHA256 ${SCOPE}, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`);
    assert.ok(parsed);
    const r1 = resign('PUT', '/', [...HOST, 'x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'], parsed, SUITE, () => EMPTY_SHA256);
    assert.equal(r1.ok, false);
    const r2 = resign('GET', '/', ['Host', 'example.amazonaws.com'], parsed, SUITE, () => EMPTY_SHA256);
    assert.equal(r2.ok, false);
    assert.equal(parseAuthorization('Bearer abc'), undefined);
    assert.equal(parseAuthorization('AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00'), undefined);
  });
  void it('streaming payloads: signed trailers and SigV4a chunks are refused with the reason; chunk-signed bodies get the re-signer; unsigned ones are re-signed', () => {
    const parsed = parseAuthorization(`AWS4-HMAC-SHA256 ${SCOPE}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${'0'.repeat(64)}`);
    assert.ok(parsed);
    for (const [mode, why] of [['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', /not signed trailers/], ['STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', /not SigV4a/]] as const) {
      const r = resign('PUT', '/b/k', [...HOST, 'x-amz-content-sha256', mode], parsed, SUITE, () => EMPTY_SHA256);
      assert.equal(r.ok, false, mode);
      assert.match(r.ok ? '' : r.reason, /aws-chunked encoding with a signature on every chunk/, mode);
      assert.match(r.ok ? '' : r.reason, why, mode);
    }
    const chunked = resign('PUT', '/b/k', [...HOST, 'x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'], parsed, SUITE, () => EMPTY_SHA256);
    assert.ok(chunked.ok);
    assert.equal(chunked.chunks?.scope, '20150830/us-east-1/service/aws4_request');
    assert.ok(chunked.authorization.endsWith(`Signature=${chunked.chunks?.seedSignature ?? 'x'}`));
    assert.match(streamingRefusal('sha256-of-something') ?? '', /neither a SHA-256 hex digest nor a known payload mode/);
    for (const mode of ['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', EMPTY_SHA256]) {
      const headers = [...HOST, 'x-amz-content-sha256', mode];
      const r = resign('PUT', '/b/k', headers, parsed, SUITE, () => 'not used');
      assert.ok(r.ok, mode);
      assert.equal(r.authorization, authorization({ ...SUITE, method: 'PUT', target: '/b/k', headers, signedHeaders: parsed.signedHeaders, payloadHash: mode }), mode);
    }
  });
  void it('re-signs a presigned URL made with a placeholder key into the documented S3 example', () => {
    // The documented example (access key AKIAIOSFODNN7EXAMPLE, its documented secret), presigned by the agent with a placeholder pair.
    const placeholderKey = 'AKIAPLACEHOLDER00001';
    const query = (key: string, sig: string): string => `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${key}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=${sig}`;
    const target = `/test.txt?${query(placeholderKey, 'f'.repeat(64))}`;
    const headers = ['Host', 'examplebucket.s3.amazonaws.com'];
    const p = parsePresigned(target);
    assert.ok(p);
    assert.equal(p.accessKeyId, placeholderKey);
    assert.equal(p.service, 's3');
    const r = resignPresigned('GET', target, headers, p, { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }, () => EMPTY_SHA256);
    assert.ok(r.ok);
    assert.equal(r.target, `/test.txt?${query('AKIAIOSFODNN7EXAMPLE', 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404')}`);
    // Not presigned: a missing or repeated parameter, another algorithm.
    assert.equal(parsePresigned('/test.txt?X-Amz-Signature=00'), undefined);
    assert.equal(parsePresigned(`${target}&X-Amz-Credential=x`), undefined);
    assert.equal(parsePresigned(target.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256')), undefined);
    // A presigned URL must sign host; a chunk-signed body declared in the URL is refused.
    const noHost = parsePresigned(target.replace('X-Amz-SignedHeaders=host', 'X-Amz-SignedHeaders=range'));
    assert.ok(noHost);
    assert.equal(resignPresigned('GET', target, headers, noHost, SUITE, () => EMPTY_SHA256).ok, false);
    const streaming = `${target}&X-Amz-Content-Sha256=STREAMING-AWS4-HMAC-SHA256-PAYLOAD`;
    const ps = parsePresigned(streaming);
    assert.ok(ps);
    const refused = resignPresigned('PUT', streaming, headers, ps, SUITE, () => EMPTY_SHA256);
    assert.match(refused.ok ? '' : refused.reason, /a presigned URL cannot carry chunk-signed bodies/);
  });
});
