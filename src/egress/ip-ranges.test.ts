import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CordonError } from '../errors.js';
import { canonicalizeHost } from './hostname.js';
import { METADATA_ADDRESSES, METADATA_NAMES, SPECIAL_RANGES, classifyAddress, isMetadataHost } from './ip-ranges.js';

interface Expected {
  readonly special: boolean;
  readonly metadata: boolean;
  readonly range?: string;
  readonly embedded?: string;
}

/** Teredo client 10.0.0.1: last 32 bits are 10.0.0.1 XOR 0xffffffff = f5ff:fffe. */
const TEREDO_10_0_0_1 = '2001:0:4136:e378:8000:63bf:f5ff:fffe';

const CLASSIFIED: readonly (readonly [string, Expected])[] = [
  ['1.2.3.4', { special: false, metadata: false }],
  ['8.8.8.8', { special: false, metadata: false }],
  ['2606:4700:4700::1111', { special: false, metadata: false }],
  ['0.0.0.0', { special: true, metadata: false, range: '0.0.0.0/8' }],
  ['0', { special: true, metadata: false, range: '0.0.0.0/8' }],
  ['10.1.2.3', { special: true, metadata: false, range: '10.0.0.0/8' }],
  ['100.64.0.1', { special: true, metadata: false, range: '100.64.0.0/10' }],
  ['100.128.0.1', { special: false, metadata: false }],
  ['100.100.100.200', { special: true, metadata: true, range: '100.64.0.0/10' }],
  ['127.0.0.1', { special: true, metadata: false, range: '127.0.0.0/8' }],
  ['0x7f.1', { special: true, metadata: false, range: '127.0.0.0/8' }],
  ['0177.0.0.1', { special: true, metadata: false, range: '127.0.0.0/8' }],
  ['2130706433', { special: true, metadata: false, range: '127.0.0.0/8' }],
  ['169.254.169.254', { special: true, metadata: true, range: '169.254.0.0/16' }],
  ['2852039166', { special: true, metadata: true, range: '169.254.0.0/16' }],
  ['169.254.170.2', { special: true, metadata: true, range: '169.254.0.0/16' }],
  ['169.254.1.1', { special: true, metadata: false, range: '169.254.0.0/16' }],
  ['172.31.255.255', { special: true, metadata: false, range: '172.16.0.0/12' }],
  ['172.32.0.1', { special: false, metadata: false }],
  ['192.0.0.192', { special: true, metadata: true, range: '192.0.0.0/24' }],
  ['192.0.2.1', { special: true, metadata: false, range: '192.0.2.0/24' }],
  ['192.88.99.1', { special: true, metadata: false, range: '192.88.99.0/24' }],
  ['192.168.1.1', { special: true, metadata: false, range: '192.168.0.0/16' }],
  ['198.19.255.255', { special: true, metadata: false, range: '198.18.0.0/15' }],
  ['198.51.100.7', { special: true, metadata: false, range: '198.51.100.0/24' }],
  ['203.0.113.9', { special: true, metadata: false, range: '203.0.113.0/24' }],
  ['224.0.0.1', { special: true, metadata: false, range: '224.0.0.0/4' }],
  ['240.0.0.1', { special: true, metadata: false, range: '240.0.0.0/4' }],
  ['255.255.255.255', { special: true, metadata: false, range: '255.255.255.255/32' }],
  ['168.63.129.16', { special: false, metadata: true }],
  ['[::]', { special: true, metadata: false, range: '::/128' }],
  ['[::1]', { special: true, metadata: false, range: '::1/128' }],
  ['::a9fe:a9fe', { special: true, metadata: true, range: '::/96', embedded: '169.254.169.254' }],
  ['[::ffff:169.254.169.254]', { special: true, metadata: true, range: '::ffff:0:0/96', embedded: '169.254.169.254' }],
  ['::ffff:127.0.0.1', { special: true, metadata: false, range: '::ffff:0:0/96', embedded: '127.0.0.1' }],
  ['::ffff:8.8.8.8', { special: false, metadata: false, range: '::ffff:0:0/96', embedded: '8.8.8.8' }],
  ['[64:ff9b::a9fe:a9fe]', { special: true, metadata: true, range: '64:ff9b::/96', embedded: '169.254.169.254' }],
  ['64:ff9b::10.0.0.1', { special: true, metadata: false, range: '64:ff9b::/96', embedded: '10.0.0.1' }],
  ['64:ff9b::8.8.8.8', { special: false, metadata: false, range: '64:ff9b::/96', embedded: '8.8.8.8' }],
  ['64:ff9b:1::a9fe:a9fe', { special: true, metadata: true, range: '64:ff9b:1::/48', embedded: '169.254.169.254' }],
  // RFC 6052 /48 layout: 169.254 in bits 48-63, 169.254 in bits 72-87.
  ['64:ff9b:1:a9fe:a9:fe00::', { special: true, metadata: true, range: '64:ff9b:1::/48', embedded: '169.254.169.254' }],
  ['64:ff9b:1::808:808', { special: true, metadata: false, range: '64:ff9b:1::/48', embedded: '8.8.8.8' }],
  ['100::1', { special: true, metadata: false, range: '100::/64' }],
  [TEREDO_10_0_0_1, { special: true, metadata: false, range: '2001::/32', embedded: '10.0.0.1' }],
  ['2001:0:4136:e378:8000:63bf:5601:5601', { special: true, metadata: true, range: '2001::/32', embedded: '169.254.169.254' }],
  ['2001:db8::1', { special: true, metadata: false, range: '2001:db8::/32' }],
  ['2002:a9fe:a9fe::1', { special: true, metadata: true, range: '2002::/16', embedded: '169.254.169.254' }],
  ['2002:808:808::1', { special: true, metadata: false, range: '2002::/16', embedded: '8.8.8.8' }],
  ['fd00:ec2::254', { special: true, metadata: true, range: 'fc00::/7' }],
  ['fd00:ec2::23', { special: true, metadata: true, range: 'fc00::/7' }],
  ['fc00::1', { special: true, metadata: false, range: 'fc00::/7' }],
  ['fe80::1', { special: true, metadata: false, range: 'fe80::/10' }],
  ['febf::1', { special: true, metadata: false, range: 'fe80::/10' }],
  ['fec0::1', { special: true, metadata: false, range: 'fec0::/10' }],
  ['ff02::1', { special: true, metadata: false, range: 'ff00::/8' }],
];

void describe('classifyAddress', () => {
  for (const [input, expected] of CLASSIFIED) {
    void it(`classifies ${input}`, () => {
      const c = classifyAddress(input);
      assert.equal(c.special, expected.special, 'special');
      assert.equal(c.metadata, expected.metadata, 'metadata');
      assert.equal(c.range?.cidr, expected.range, 'range');
      assert.equal(c.embeddedIPv4, expected.embedded, 'embedded IPv4');
      assert.deepEqual(classifyAddress(canonicalizeHost(input)), c, 'CanonicalHost input agrees');
    });
  }
  void it('classifies the network address of every table entry into that entry', () => {
    for (const range of SPECIAL_RANGES) {
      const [network] = range.cidr.split('/');
      const c = classifyAddress(network ?? '');
      assert.ok(c.range !== undefined, range.cidr);
      assert.ok(c.range.cidr === range.cidr || (c.range.cidr.endsWith('/128') && range.cidr === '::/96'), range.cidr);
    }
  });
  void it('knows every metadata address, in every spelling', () => {
    for (const m of METADATA_ADDRESSES) {
      const host = canonicalizeHost(m.host);
      assert.equal(classifyAddress(host).metadata, true, m.host);
      if (host.type === 'ipv4') assert.equal(classifyAddress(`::ffff:${host.name}`).metadata, true, m.host);
    }
  });
  void it('explains itself in one sentence', () => {
    assert.equal(classifyAddress('8.8.8.8').explanation, '8.8.8.8 is a public address.');
    assert.equal(
      classifyAddress('10.0.0.1').explanation,
      '10.0.0.1 is in 10.0.0.0/8 (private-10): RFC 1918 private network.',
    );
    assert.equal(
      classifyAddress('169.254.169.254').explanation,
      '169.254.169.254 is a cloud metadata endpoint and is never reachable.',
    );
    assert.equal(
      classifyAddress(TEREDO_10_0_0_1).explanation,
      `${TEREDO_10_0_0_1} is in 2001::/32 (teredo), carrying 10.0.0.1 (in 10.0.0.0/8 (private-10)): Teredo tunnelling; carries an obfuscated IPv4 address.`,
    );
  });
  void it('refuses DNS names and invalid addresses', () => {
    for (const bad of ['example.com', '256.1.1.1', '']) {
      assert.throws(() => classifyAddress(bad), (e: unknown) => e instanceof CordonError && e.code === 'CORDON_HOST_INVALID');
    }
  });
  void it('re-canonicalises a CanonicalHost it did not make', () => {
    assert.equal(classifyAddress({ name: '0x7f.1', type: 'ipv4' }).range?.cidr, '127.0.0.0/8');
  });
});

void describe('isMetadataHost', () => {
  void it('matches metadata names exactly, after canonicalisation', () => {
    for (const m of METADATA_NAMES) assert.equal(isMetadataHost(canonicalizeHost(m.host)), true, m.host);
    assert.equal(isMetadataHost(canonicalizeHost('Metadata.Google.Internal.')), true);
    assert.equal(isMetadataHost(canonicalizeHost('metadata.google.internal.evil.com')), false);
    assert.equal(isMetadataHost(canonicalizeHost('notmetadata')), false);
  });
  void it('matches metadata addresses in any spelling, directly or embedded', () => {
    for (const spelling of ['169.254.169.254', '0xa9fea9fe', '[::ffff:169.254.169.254]', '[64:ff9b::a9fe:a9fe]', '2002:a9fe:a9fe::1', 'fd00:ec2::254']) {
      assert.equal(isMetadataHost(canonicalizeHost(spelling)), true, spelling);
    }
    assert.equal(isMetadataHost(canonicalizeHost('8.8.8.8')), false);
    assert.equal(isMetadataHost(canonicalizeHost('10.0.0.1')), false);
  });
});
