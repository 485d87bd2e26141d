import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostnameFindings, subdomainLabels } from './dns.js';
import { DlpScanner } from './scanner.js';
import { scanHeaders, scanHostname, scanUrl } from './structured.js';

/** Realistic benign names: CDNs, clouds, SaaS ids, IDNA, reverse DNS, deep internal names. None may be flagged. */
export const BENIGN_HOSTNAMES: readonly string[] = [
  'www.google.com', 'api.github.com', 'raw.githubusercontent.com', 'objects.githubusercontent.com', 'codeload.github.com',
  'registry.npmjs.org', 'pypi.org', 'files.pythonhosted.org', 'cdnjs.cloudflare.com', 'cdn.jsdelivr.net', 'unpkg.com',
  'd111111abcdef8.cloudfront.net', 'd3k2x9f7q1w8e.cloudfront.net', 'dzvoe1tq8mfyz.cloudfront.net',
  'my-bucket.s3.amazonaws.com', 'my-bucket.s3.us-west-2.amazonaws.com', 'logs-2024-archive.s3.eu-central-1.amazonaws.com',
  'ec2-54-123-45-67.compute-1.amazonaws.com', 'ip-10-0-1-23.eu-west-1.compute.internal.example.com',
  '123456789012.dkr.ecr.us-east-1.amazonaws.com', 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
  'fa6ghrk7b4cjyvgylzgwbq4tj40bgaxb.lambda-url.us-west-2.on.aws', 'abcdefghijklmnopqrstuvwxyz.appsync-api.us-east-1.amazonaws.com',
  'my-lb-1234567890.us-east-1.elb.amazonaws.com', 'k8s-default-myingres-0a1b2c3d4e-1234567890.us-east-1.elb.amazonaws.com',
  'k8s-payments-apigatew-9f8e7d6c5b-0987654321.elb.eu-west-1.amazonaws.com', 'vpce-0a1b2c3d4e5f6a7b8-abcdefgh.s3.us-east-1.vpce.amazonaws.com',
  '3f1c9a2b7d8e4f5a6b7c8d9e0f1a2b3c.r2.cloudflarestorage.com', 'pub-3f1c9a2b7d8e4f5a6b7c8d9e0f1a2b3c.r2.dev',
  'myaccount.blob.core.windows.net', 'myapp-abcdefgh123.z01.azurefd.net', 'login.microsoftonline.com',
  'hello-abc123xyz-uc.a.run.app', 'us-central1-aiplatform.googleapis.com', 'storage.googleapis.com', 'lh3.googleusercontent.com',
  'r3---sn-aigzrn7e.googlevideo.com', 'rr5---sn-q4flrnek.googlevideo.com', 'e1234.dscb.akamaiedge.net', 'a248.e.akamai.net',
  'abcdefghijklmnopqrst.supabase.co', 'my-app-git-main-acme.vercel.app', 'my-app-4fj2k9x1z-acme.vercel.app',
  '5f8a2b3c4d5e6f0012345678--site.netlify.app', 'shielded-falls-12345.herokuapp.com', 'project-12345.web.app',
  'fuzzy-space-waddle-5g4x9q7wjv2xyz-8080.app.github.dev', '1a2b-3c4d-5e6f.ngrok-free.app', 'o123456.ingest.sentry.io',
  'o450123.ingest.us.sentry.io', '123e4567-e89b-12d3-a456-426614174000.tenant.example.com',
  'f47ac10b-58cc-4372-a567-0e02b2c3d479.workspace.slack-edge.com', 'acme.atlassian.net', 'acme.my.salesforce.com',
  'xn--bcher-kva.example', 'www.xn--mnchen-3ya.de', 'xn--80ak6aa92e.com', 'sub.xn--fiqs8s.cn',
  'news.bbc.co.uk', 'www.abc.net.au', 'shop.example.com.br', 'mail.corp.prod.example.com',
  'static.assets.images.example.com', 'accounts.internal.services.corp.example.com', 'dead.beef.cafe.example.com',
  '1.0.0.127.in-addr.arpa', 'b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa',
  'my-svc.my-namespace.svc.cluster.local', 'kubernetes.default.svc.cluster.local', 'api.eu-west-1.prod.service.internal.example.com',
  'docs.github.com', 'echo.websocket.org', 'api.openai.com', 'api.anthropic.com', 'generativelanguage.googleapis.com',
  'sha256-abc123.cache.nixos.org', 'cache.nixos.org', 'proxy.golang.org', 'sum.golang.org', 'index.docker.io',
  'production.cloudflare.docker.com', 'ghcr.io', 'pkg-containers.githubusercontent.com', 'github-releases.githubusercontent.com',
  'deb.debian.org', 'security.debian.org', 'archive.ubuntu.com', 'mirrors.edge.kernel.org', 'dl-cdn.alpinelinux.org',
  'crates.io', 'static.crates.io', 'index.crates.io', 'repo.maven.apache.org', 'repo1.maven.org', 'plugins.gradle.org',
  'rubygems.org', 'api.nuget.org', 'fonts.gstatic.com', 'www.googletagmanager.com', 'stats.g.doubleclick.net',
  'a.b.c.example.com', 'x1.y2.z3.example.com', 'web01.dc1.example.net', 'db-replica-02.us-east-1.rds.amazonaws.com',
  'mydb.cluster-c9akciq32.us-east-1.rds.amazonaws.com', 'my-cache.abc123.ng.0001.use1.cache.amazonaws.com',
  'abcdef1234567890abcdef1234567890.us-east-1.aws.found.io', 'cluster0.ab1cd.mongodb.net', 'my-project.firebaseio.com',
  'ip-172-31-22-10.us-west-2.compute.internal', 'abc123.us-east-1.aws.cloud.es.io', 'myapp-v2.eu-west-2.elasticbeanstalk.com',
  'cluster0-shard-00-01.ab1cd.mongodb.net', 'api-v2.staging-3.us-east-2.example.com', 'web-01.rack-12.dc-3.prod.example.com',
  'pod-7d9f8b6c5-x2k4m.ns1.svc.cluster.local', 'gke-prod-pool-1-a1b2c3d4-x9z8.c.my-project-123.internal',
  'xyz789.us-central1.gcp.cloud.es.io', 'h3.v4.cdn.example.net', 'e2e-tests-42.ci.example.org',
  'SharePoint.Example.Com', 'MyCompany.SharePoint.com', 'WWW.EXAMPLE.COM', 'API-Gateway.Example.Org',
];

const BLOCKED: readonly [string, string][] = [
  ['JBSWY3DPEHPK3PXP.exfil.evil.com', 'base32'],
  ['KRSXG5DTMVRXEZLUEBVWK6JAGEZDG.exfil.evil.com', 'base32-text'],
  ['X7QK4TZ2MBW5NR3JLP6A.evil.example', 'base32'],
  ['krsxg5dtmvrxezlueb3gk4tjfzzwk3tfmqqgs3rnmrxw4zi.evil.example', 'base32-text'],
  ['c2VjcmV0X3Rva2VuXzEyMzQ1Njc4OTA.exfil.evil.com', 'base64-text'],
  ['QWxhZGRpbjpvcGVuIHNlc2FtZQ.x.evil.example', 'base64-text'],
  ['kP9xQ2vLm7Rt4WzA8bNc3YdE.evil.example', 'base64-random'],
  ['7365637265745f6170695f6b65795f3132333435.exfil.evil.com', 'hex-text'],
  ['a1b2c3d4.e5f6a7b8.c9d0e1f2.a3b4c5d6.e7f8a9b0.exfil.evil.com', 'hex-chain'],
  ['9f86d081.884c7d65.9a2feaa0.evil.example', 'hex-chain'],
  ['ghp-xxxx.yyyyzzzz.aaaabbbb.ccccdddd.exfil.evil.com', 'chunked'],
  ['q7xk2p.m4zr8w.t1vb6n.y3hs9c.evil.example', 'chunked'],
  ['x8f3k2q9z7w1m4n6b5v0c8x7z6a5s4d3f2g1h0j9k8l7.evil.example', 'long-random'],
  ['a.b.c.d.e.f.g.h.i.evil.example', 'deep'],
  ['k2j4x9.f83kp0q.q2m7zt5w.h7d3.evil.example', 'random-chain'],
  ['x9k2.m3p7q1.z8w4r6t2y.b5n1v7.c.evil.example', 'random-chain'],
];

void test('benign hostnames: no finding (false positives kept at zero)', () => {
  const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true });
  const flagged = BENIGN_HOSTNAMES.filter((h) => hostnameFindings(h).length > 0 || scanHostname(scanner, h, 'host').length > 0);
  assert.deepEqual(flagged, []);
  for (const h of BENIGN_HOSTNAMES) assert.deepEqual(scanUrl(scanner, `https://${h}/path?q=1`).filter((f) => f.detector === 'dns-encoded-data'), [], h);
});

void test('encoded labels are found, by kind', () => {
  for (const [host, kind] of BLOCKED) {
    const kinds = hostnameFindings(host).map((f) => f.kind);
    assert.ok(kinds.includes(kind as never), `${host}: ${kinds.join(',') || 'nothing'} (want ${kind})`);
  }
});

void test('the registrable domain is not a subdomain; country second levels count as suffix', () => {
  assert.deepEqual(subdomainLabels('a.b.example.co.uk'), ['a', 'b']);
  assert.deepEqual(subdomainLabels('a.example.com'), ['a']);
  assert.deepEqual(subdomainLabels('example.com'), []);
  assert.deepEqual(subdomainLabels('127.0.0.1'), []);
  // A hex-text label that is the registrable domain itself is not read (it is the destination, not a subdomain).
  assert.deepEqual(hostnameFindings('7365637265745f6b6579.com'), []);
});

void test('URL, Host header and a provider token cut into labels', () => {
  const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true });
  // The written case reaches the label rules (the parsed URL host is lower case).
  assert.ok(scanUrl(scanner, 'https://JBSWY3DPEHPK3PXP.exfil.evil.com/health').some((f) => f.detector === 'dns-encoded-data' && f.explain.endsWith('(base32)')));
  assert.equal(scanUrl(scanner, 'https://jbswy3dpehpk3pxp.exfil.evil.com/health').some((f) => f.detector === 'dns-encoded-data'), false);
  assert.ok(scanHeaders(scanner, ['Host', 'c2VjcmV0X3Rva2VuXzEyMzQ1Njc4OTA.evil.example:8080']).some((f) => f.location.where === 'header:host'));
  assert.deepEqual(scanHeaders(scanner, ['Host', 'api.github.com']), []);
  const split = scanHostname(scanner, 'AKIAIOSF.ODNN7EXA.MPLE.evil.example', 'host');
  assert.ok(split.some((f) => f.detector === 'aws-access-key-id'), JSON.stringify(split));
});
