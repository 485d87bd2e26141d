/**
 * The proxy's decision path for CONNECT/SOCKS targets, table-driven: each
 * spelling is parsed as a CONNECT authority by the one canonicaliser, then
 * decided, resolved (by a fixed table, no network) and address-checked by the
 * gate, exactly as `handleConnect` does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DecisionEvent } from '../audit/record.js';
import { rulesPolicy } from '../policy/test-helpers.js';
import { DestinationGate } from './destination.js';
import { parseAuthority } from './hostname.js';
import type { Resolver } from './resolver.js';

const DNS: Readonly<Record<string, readonly string[]>> = {
  'allowed.com': ['93.184.215.14'],
  'x.allowed.com': ['93.184.215.15'],
  'a.b.allowed.com': ['93.184.215.15', '2606:2800:21f::1'],
  'internal.corp': ['10.0.0.1'],
  'pub.wild.com': ['93.184.215.16'],
  'priv.wild.com': ['10.0.0.1'],
  'meta.wild.com': ['169.254.169.254'],
  'mapped.wild.com': ['::ffff:10.0.0.1'],
  'mixed.wild.com': ['93.184.215.17', '192.168.1.1'],
  'v6.wild.com': ['2606:4700::1'],
  'nat64.wild.com': ['64:ff9b::a9fe:a9fe'],
  'cgnat.wild.com': ['100.64.0.1'],
  'ula.wild.com': ['fd12::1'],
  'nodata.wild.com': [],
  'xn--bcher-kva.de': ['93.184.215.18'],
  localhost: ['127.0.0.1'],
  'metadata.google.internal': ['169.254.169.254'],
};
const asked: string[] = [];
const resolver: Resolver = (name) => {
  asked.push(name);
  const list = DNS[name];
  if (list === undefined) return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
  return Promise.resolve(list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
};

const { policy } = rulesPolicy({
  deny: ['Net(blocked.allowed.com)'],
  allow: ['Net(allowed.com)', 'Net(*.allowed.com)', 'Net(internal.corp)', 'Net(*.wild.com)', 'Net(127.0.0.1:8080)', 'Net(localhost:3000)', 'Net([::1]:9000)', 'Net(10.1.2.3)', 'Net(bücher.de)', 'Net(metadata.google.internal)', 'Net(169.254.169.254)'],
});

type Want = 'allow' | 'deny' | 'invalid';
/** [authority as the client wrote it, expected outcome]. Port 443 when none is written. */
const TABLE: readonly (readonly [string, Want])[] = [
  // exact names, case, trailing dot, IDNA
  ['allowed.com', 'allow'], ['ALLOWED.COM', 'allow'], ['allowed.com.', 'allow'], ['AlLoWeD.CoM.', 'allow'],
  ['ａｌｌｏｗｅｄ.com', 'allow'], ['bücher.de', 'allow'], ['BÜCHER.DE', 'allow'], ['xn--bcher-kva.de', 'allow'],
  ['x.allowed.com', 'allow'], ['X.ALLOWED.COM.', 'allow'], ['a.b.allowed.com', 'allow'],
  ['internal.corp', 'allow'], ['INTERNAL.CORP.', 'allow'], ['pub.wild.com', 'allow'], ['v6.wild.com', 'allow'],
  // look-alikes and suffix tricks
  ['allowed.com.evil.com', 'deny'], ['evilallowed.com', 'deny'], ['allowed.co', 'deny'], ['allowed.com-evil.com', 'deny'],
  ['wild.com', 'deny'], ['blocked.allowed.com', 'deny'], ['BLOCKED.allowed.com.', 'deny'], ['example.com', 'deny'],
  // control, whitespace, invisible, delimiters: refused by the canonicaliser
  ['evil\u0000.allowed.com', 'invalid'], ['allowed.com\r\nX: y', 'invalid'], ['allowed .com', 'invalid'], ['allowed.com%00', 'invalid'],
  ['user@allowed.com', 'invalid'], ['allowed.com\u200b', 'invalid'], ['\u202eallowed.com', 'invalid'], ['allowed\u00ad.com', 'invalid'],
  ['allowed..com', 'invalid'], ['allowed.com..', 'invalid'], [`${'a'.repeat(64)}.com`, 'invalid'], ['allowed.com\t', 'invalid'],
  ['allowed.com:0', 'invalid'], ['allowed.com:65536', 'invalid'], ['allowed.com:', 'invalid'], ['allowed.com:80:80', 'invalid'],
  ['256.1.1.1', 'invalid'], ['1.2.3.4.5', 'invalid'], ['0x100000000', 'invalid'], ['[::1', 'invalid'], ['[::1%25lo]:9000', 'invalid'],
  ['::1', 'invalid'], ['allowed.com\\@evil.com', 'invalid'], ['allowed.com#', 'invalid'], ['allowed.com/x', 'invalid'], ['allowed.com?x', 'invalid'],
  // loopback: named exactly, any IPv4 spelling; wrong port or another address is denied
  ['127.0.0.1:8080', 'allow'], ['0x7f.1:8080', 'allow'], ['2130706433:8080', 'allow'], ['0177.0.0.1:8080', 'allow'],
  ['127.1:8080', 'allow'], ['0x7f000001:8080', 'allow'], ['127.0.1:8080', 'allow'], ['127.0.0.1.:8080', 'allow'],
  ['127.0.0.1:8081', 'deny'], ['0x7f.1', 'deny'], ['2130706433', 'deny'], ['127.0.0.2:8080', 'deny'], ['[::ffff:127.0.0.1]:8080', 'deny'],
  ['localhost:3000', 'allow'], ['LOCALHOST:3000', 'allow'], ['localhost.:3000', 'allow'], ['localhost:3001', 'deny'], ['x.localhost:3000', 'deny'],
  ['[::1]:9000', 'allow'], ['[0:0:0:0:0:0:0:1]:9000', 'allow'], ['[::0001]:9000', 'allow'], ['[::1]:9001', 'deny'],
  // a private address named exactly, in several spellings
  ['10.1.2.3', 'allow'], ['012.1.2.3', 'allow'], ['0xa.1.2.3', 'allow'], ['167838211', 'allow'], ['10.1.2.4', 'deny'],
  // names resolving to special addresses through a wildcard rule
  ['priv.wild.com', 'deny'], ['mapped.wild.com', 'deny'], ['mixed.wild.com', 'deny'], ['cgnat.wild.com', 'deny'], ['ula.wild.com', 'deny'],
  ['meta.wild.com', 'deny'], ['nat64.wild.com', 'deny'], ['nodata.wild.com', 'deny'], ['unknown.wild.com', 'deny'],
  // cloud metadata in every spelling: denied even though a rule names it
  ['169.254.169.254', 'deny'], ['[::ffff:169.254.169.254]', 'deny'], ['[::ffff:a9fe:a9fe]', 'deny'], ['[64:ff9b::a9fe:a9fe]', 'deny'],
  ['0xa9fea9fe', 'deny'], ['2852039166', 'deny'], ['0251.0376.0251.0376', 'deny'], ['169.254.43518', 'deny'], ['[2002:a9fe:a9fe::]', 'deny'],
  ['[fd00:ec2::254]', 'deny'], ['100.100.100.200', 'deny'], ['metadata.google.internal', 'deny'], ['METADATA.GOOGLE.INTERNAL.', 'deny'],
  // other special addresses not named by any rule
  ['10.0.0.1', 'deny'], ['192.168.1.1', 'deny'], ['[fe80::1]', 'deny'], ['0.0.0.0', 'deny'], ['[::]', 'deny'], ['8.8.8.8', 'deny'],
];

async function outcome(gate: DestinationGate, authority: string): Promise<Want> {
  let target;
  try {
    target = parseAuthority(authority, 443);
  } catch {
    return 'invalid';
  }
  const r = await gate.check({ kind: 'Net', host: target.host, port: target.port });
  return r.ok ? 'allow' : 'deny';
}

void describe('egress decision path: hostname and IP spellings', () => {
  void it(`decides ${TABLE.length} spellings as expected`, async () => {
    assert.ok(TABLE.length >= 80);
    const events: DecisionEvent[] = [];
    const gate = new DestinationGate({ policy, resolver, publish: (e) => events.push(e) });
    const wrong: string[] = [];
    for (const [authority, want] of TABLE) {
      const got = await outcome(gate, authority);
      if (got !== want) wrong.push(`${JSON.stringify(authority)}: want ${want}, got ${got}`);
    }
    assert.deepEqual(wrong, []);
    assert.ok(events.length >= TABLE.filter(([, w]) => w !== 'invalid').length, 'every decision is published');
  });

  void it('decides the same way from kept decisions: the table twice on one gate, every use published; other deciders asked every time', async () => {
    const events: DecisionEvent[] = [];
    const gate = new DestinationGate({ policy, resolver, publish: (e) => events.push(e) });
    const first: Want[] = [];
    for (const [authority] of TABLE) first.push(await outcome(gate, authority));
    const published = events.length;
    const second: Want[] = [];
    for (const [authority] of TABLE) second.push(await outcome(gate, authority));
    assert.deepEqual(second, first);
    assert.equal(events.length, 2 * published, 'a kept decision is published on every use');
    // A decider that is not a loaded Policy may answer differently over time: asked for every request.
    let calls = 0;
    const counting = { decide: (s: Parameters<typeof policy.decide>[0]) => (calls++, policy.decide(s)) };
    const other = new DestinationGate({ policy: counting, resolver, publish: () => undefined });
    await outcome(other, '127.0.0.1:8080');
    await outcome(other, '127.0.0.1:8080');
    assert.equal(calls, 2);
  });

  void it('never resolves a name that policy does not allow (no DNS query carries a denied name)', async () => {
    asked.length = 0;
    const gate = new DestinationGate({ policy, resolver, publish: () => undefined });
    await outcome(gate, 'c2VjcmV0.exfil.example');
    await outcome(gate, 'blocked.allowed.com');
    assert.deepEqual(asked, []);
  });

  void it('says why a private answer was refused and which rule to add', async () => {
    const gate = new DestinationGate({ policy, resolver, publish: () => undefined });
    const r = await gate.check({ kind: 'Net', host: { name: 'priv.wild.com', type: 'dns' }, port: 443 });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.match(r.refusal.reason, /^priv\.wild\.com resolved to 10\.0\.0\.1: 10\.0\.0\.1 is in 10\.0\.0\.0\/8/);
    assert.match(r.refusal.reason, /only when a rule names the host or the address exactly/);
    assert.equal(r.refusal.suggestion, 'Net(priv.wild.com:443)');
  });

  void it('report-only forwards a policy deny but never a metadata or private-address refusal', async () => {
    const events: DecisionEvent[] = [];
    const gate = new DestinationGate({ policy: rulesPolicy({}).policy, resolver, reportOnly: true, publish: (e) => events.push(e) });
    assert.equal((await gate.check({ kind: 'Net', host: { name: 'allowed.com', type: 'dns' }, port: 443 })).ok, true);
    assert.equal(events[0]?.reportOnly, true);
    assert.equal(events[0]?.decision, 'deny');
    assert.equal((await gate.check({ kind: 'Net', host: { name: 'internal.corp', type: 'dns' }, port: 443 })).ok, false);
    assert.equal((await gate.check({ kind: 'Net', host: { name: '169.254.169.254', type: 'ipv4' }, port: 80 })).ok, false);
  });
});
