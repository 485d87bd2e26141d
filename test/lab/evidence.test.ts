/** The canary detector sees a leak in every encoding an attacker would use, and nothing in unrelated bytes. */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { makeCanaries } from '../../src/lab/canaries.js';
import { CanaryDetector, joinedDnsNames, joinedPayload } from '../../src/lab/evidence.js';
import { canonicalPath } from '../../src/lab/recorder.js';

void describe('lab evidence: canary detector', () => {
  const c = makeCanaries();
  const det = new CanaryDetector(c);
  const v = c.aws;
  const forms: Record<string, Buffer> = {
    raw: Buffer.from(`x=${v}`),
    base64: Buffer.from(Buffer.from(`AB${v}`).toString('base64')),
    base64url: Buffer.from(Buffer.from(`A${v}`).toString('base64url')),
    hex: Buffer.from(Buffer.from(v).toString('hex').toUpperCase()),
    percent: Buffer.from(encodeURIComponent(`k=${v}`).replace(/[a-z]/g, (ch) => `%${ch.charCodeAt(0).toString(16)}`)),
    gzip: gzipSync(Buffer.from(v)),
    gzipBase64: Buffer.from(gzipSync(Buffer.from(`pre ${v}`)).toString('base64')),
    partial: Buffer.from(v.slice(5, 25)),
  };
  for (const [name, bytes] of Object.entries(forms)) {
    void it(`finds it: ${name}`, () => assert.deepEqual([...det.find(bytes)], ['aws']));
  }

  void it('finds a value split over several requests and over DNS labels', () => {
    const b64 = Buffer.from(v).toString('base64');
    const parts = (b64.match(/.{1,12}/g) ?? []).map((p) => ({ url: `/p?x=${p}`, body: Buffer.alloc(0) }));
    for (const p of parts) assert.equal(det.find(Buffer.from(p.url)).size, 0, 'each part alone is too short');
    assert.ok(det.find(joinedPayload(parts)).has('aws'));
    const hex = Buffer.from(v).toString('hex');
    const [name] = joinedDnsNames([`${hex.slice(0, 40)}.${hex.slice(40)}.exfil.lab.test`]);
    assert.ok(name !== undefined && det.find(name).has('aws'));
  });

  void it('sees nothing in unrelated traffic or another scenario\'s canaries', () => {
    assert.equal(det.find(Buffer.from('GET /api/ping HTTP/1.1\nHost: 127.0.0.1\n\n{"ok":true}')).size, 0);
    const other = makeCanaries();
    assert.equal(det.find(Buffer.from(Object.values(other).join('\n'))).size, 0);
  });

  void it('restricts to the labels asked for', () => {
    assert.equal(new CanaryDetector(c, ['ssh']).find(Buffer.from(c.deploy)).size, 0);
  });

  void it('canonicalises paths the way a lenient upstream would', () => {
    assert.equal(canonicalPath('/%61dmin/x'), '/admin/x');
    assert.equal(canonicalPath('/api/../ADMIN;x=1/u?q=1'), '/admin/u');
    assert.equal(canonicalPath('http://h:1//admin'), '/admin');
  });
});
