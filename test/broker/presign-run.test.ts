/**
 * AWS presigned URLs and streaming payloads through a real `cordon run`: the
 * agent (a shell script with curl inside the sandbox) builds a presigned URL
 * from its placeholder key id; the proxy routes it to the broker (the one
 * URL shape a placeholder may have, to the key's hosts), the broker re-signs
 * it, and an HTTPS upstream on loopback checks the signature itself with the
 * real pair (generated at run time). A chunk-signed upload sent with
 * `Content-Encoding: aws-chunked` is de-framed by the DLP and re-signed chunk
 * by chunk; the upstream verifies the seed and every chunk. The placeholder
 * anywhere else in a URL, and an upload with a signed trailer, are refused,
 * and the upstream receives nothing of them.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chunkSignature } from '../../src/broker/aws-chunked.js';
import { canonicalRequest, headerValue, parseAuthorization, signingKey, stringToSign } from '../../src/broker/sigv4.js';
import { cordonAsync } from '../cli-helpers.js';
import { makePki, type TestPki } from '../egress/tls-fixture.js';

const hasBwrap = ['/usr/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));
const hasCurl = existsSync('/usr/bin/curl');
const skip = !hasBwrap ? 'bubblewrap is not installed' : !hasCurl ? 'curl is not installed' : false;

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const pick = (n: number, alphabet: string): string => [...randomBytes(n)].map((b) => alphabet.charAt(b % alphabet.length)).join('');

interface Seen { url: string; verified: boolean }

void describe('cordon run: AWS presigned URLs through the proxy and the broker', { skip }, () => {
  let pki: TestPki;
  let upstream: Server;
  let port = 0;
  let root = '';
  const seen: Seen[] = [];
  const REAL_AKID = `AKIA${pick(16, B32)}`;
  const REAL_SECRET = randomBytes(30).toString('base64');

  before(async () => {
    pki = makePki();
    upstream = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
      const body: Buffer[] = [];
      req.on('data', (c: Buffer) => body.push(c));
      req.on('end', () => {
        const url = req.url ?? '';
        const auth = parseAuthorization(req.headers.authorization ?? '');
        if (auth !== undefined) {
          // A header-signed chunked upload: the seed signature, then every chunk's, chained, with the real pair.
          const amzDate = headerValue(req.rawHeaders, 'x-amz-date') ?? '';
          const key = signingKey(REAL_SECRET, auth.date, auth.region, auth.service);
          const canonical = canonicalRequest({ method: req.method ?? 'PUT', target: url, headers: req.rawHeaders, signedHeaders: auth.signedHeaders, payloadHash: headerValue(req.rawHeaders, 'x-amz-content-sha256') ?? '', service: auth.service });
          const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
          let previous = createHmac('sha256', key).update(stringToSign(amzDate, scope, canonical)).digest('hex');
          let verified = auth.accessKeyId === REAL_AKID && previous === auth.signature;
          const chunks: string[] = [];
          let rest = Buffer.concat(body).toString('latin1');
          for (;;) {
            const m = /^([0-9a-f]+);chunk-signature=([0-9a-f]{64})\r\n/.exec(rest);
            if (m === null) { verified = false; break; }
            const size = parseInt(m[1] ?? '', 16);
            const data = Buffer.from(rest.slice(m[0].length, m[0].length + size), 'latin1');
            const want = chunkSignature({ signingKey: key, amzDate, scope }, previous, data);
            verified &&= want === m[2];
            previous = want;
            chunks.push(data.toString());
            rest = rest.slice(m[0].length + size + 2);
            if (size === 0) break;
          }
          seen.push({ url: `${url} chunks=${chunks.join('|')}`, verified });
          res.end(verified ? 'stored\n' : 'SignatureDoesNotMatch\n');
          return;
        }
        const u = new URL(url, 'https://x');
        const cred = (u.searchParams.get('X-Amz-Credential') ?? '').split('/');
        const query = url.slice(url.indexOf('?') + 1).split('&').filter((p) => !p.startsWith('X-Amz-Signature=')).join('&');
        const canonical = canonicalRequest({ method: req.method ?? 'GET', target: `${u.pathname}?${query}`, headers: req.rawHeaders, signedHeaders: (u.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';'), payloadHash: 'UNSIGNED-PAYLOAD', service: cred[3] ?? '' });
        const want = createHmac('sha256', signingKey(REAL_SECRET, cred[1] ?? '', cred[2] ?? '', cred[3] ?? '')).update(stringToSign(u.searchParams.get('X-Amz-Date') ?? '', cred.slice(1).join('/'), canonical)).digest('hex');
        const verified = cred[0] === REAL_AKID && want === u.searchParams.get('X-Amz-Signature');
        seen.push({ url, verified });
        res.end(verified ? 'object body\n' : 'SignatureDoesNotMatch\n');
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    port = (upstream.address() as AddressInfo).port;
    root = mkdtempSync(path.join(os.tmpdir(), 'cordon-presign-'));
    writeFileSync(path.join(root, 'test-ca.pem'), pki.ca);
  });
  after(async () => {
    await new Promise<void>((r) => upstream.close(() => r()));
    rmSync(root, { recursive: true, force: true });
  });

  void it('re-signs the presigned GET; refuses the placeholder elsewhere in the URL and a signed trailer', { timeout: 180_000 }, async () => {
    const ws = path.join(root, 'ws');
    mkdirSync(ws);
    const G = `127.0.0.1:${port}`;
    writeFileSync(path.join(ws, 'cordon.yaml'), [
      'version: 1',
      'permissions:',
      `  allow: ["Net(${G})"]`,
      'credentials:',
      `  AWS_ACCESS_KEY_ID: { hosts: ["${G}"] }`,
      `  AWS_SECRET_ACCESS_KEY: { hosts: ["${G}"] }`,
      '',
    ].join('\n'));
    const state = path.join(root, 'state');
    const presign = (extra: string): string =>
      `"https://${G}/bucket/object.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=$AWS_ACCESS_KEY_ID%2F$D%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=$T&X-Amz-Expires=300&X-Amz-SignedHeaders=host${extra}&X-Amz-Signature=${'0'.repeat(64)}"`;
    const script = [
      'T=$(date -u +%Y%m%dT%H%M%SZ); D=$(printf %s "$T" | cut -c1-8)',
      `printf 'presigned='; curl -sS ${presign('')}`,
      `curl -s -o /dev/null -w 'copy=%{http_code}\\n' ${presign('&copy=$AWS_ACCESS_KEY_ID')}`,
      `curl -s -o /dev/null -w 'plain-url=%{http_code}\\n' "https://${G}/bucket/x?key=$AWS_ACCESS_KEY_ID"`,
      // A chunk-signed upload with a signed trailer: the broker does not re-sign trailers, so it refuses it.
      `printf '5;chunk-signature=%064d\\r\\nhello\\r\\n0;chunk-signature=%064d\\r\\n\\r\\n' 0 0 > body.bin`,
      `curl -sS -o chunked.out -w 'chunked=%{http_code}\\n' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" -H "x-amz-decoded-content-length: 5" --data-binary @body.bin https://${G}/bucket/chunked.txt`,
      'cat chunked.out; echo',
      // A chunk-signed upload as the AWS SDKs send it (Content-Encoding: aws-chunked): the proxy's DLP reads the
      // chunks' data, the broker re-signs the seed and every chunk with the real pair.
      `printf '5;chunk-signature=%064d\\r\\nhello\\r\\n6;chunk-signature=%064d\\r\\n world\\r\\n0;chunk-signature=%064d\\r\\n\\r\\n' 0 0 0 > up.bin`,
      `curl -sS -o up.out -w 'upload=%{http_code}\\n' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "Content-Encoding: aws-chunked" -H "x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD" -H "x-amz-decoded-content-length: 11" --data-binary @up.bin https://${G}/bucket/upload.txt`,
      'printf "upload-body="; cat up.out',
    ].join('\n');
    const r = await cordonAsync(['run', '--accept-trifecta', '--', 'sh', '-c', script], ws, {
      XDG_STATE_HOME: state, CORDON_EGRESS_EXTRA_CA: path.join(root, 'test-ca.pem'), AWS_ACCESS_KEY_ID: REAL_AKID, AWS_SECRET_ACCESS_KEY: REAL_SECRET,
    }).done;
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    // The presigned GET arrived re-signed with the real pair, and only it arrived.
    assert.match(out, /^presigned=object body$/m, `${out}\n${r.stderr}`);
    assert.deepEqual(seen.map((s) => s.verified), [true, true], JSON.stringify(seen));
    assert.ok(seen[0]?.url.includes(`X-Amz-Credential=${REAL_AKID}%2F`));
    // The chunk-signed upload arrived with every signature made with the real pair, its data intact.
    assert.match(out, /^upload=200$/m, out);
    assert.match(out, /^upload-body=stored$/m);
    assert.equal(seen[1]?.url, '/bucket/upload.txt chunks=hello| world|');
    // Refused, and the upstream received nothing of them.
    assert.match(out, /^copy=403$/m);
    assert.match(out, /^plain-url=403$/m);
    assert.match(out, /^chunked=400$/m);
    assert.match(out, /STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.*not signed trailers/);
    assert.equal(seen.length, 2);
    // Nothing real in the sandbox's output or the audit log; the records say what happened.
    const log = readdirSync(path.join(state, 'cordon')).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(path.join(state, 'cordon', f), 'utf8')).join('');
    for (const v of [REAL_AKID, REAL_SECRET]) {
      assert.equal(out.includes(v), false);
      assert.equal(log.includes(v), false, 'no real value in the audit log');
    }
    assert.match(log, /"boundary":"broker","subject":"Http\(GET 127\.0\.0\.1:\d+\/bucket\/object\.txt\)","decision":"allow","rule":"credentials AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY","reason":"[^"]*re-signed \(SigV4 presigned URL\)/);
    assert.match(log, /"decision":"deny","rule":"credential placeholder outside its hosts","reason":"Exfiltration attempt: the request carries the placeholder of credential AWS_ACCESS_KEY_ID/);
    assert.match(log, /"boundary":"broker","subject":"Http\(PUT 127\.0\.0\.1:\d+\/bucket\/chunked\.txt\)","decision":"deny"/);
  });
});
