import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { base58CheckDecode, bech32Kind, financialIds, ibanValid } from './financial.js';
import { eip55Valid, keccak256 } from './keccak.js';
import { DlpScanner } from './scanner.js';
import { scanUrl } from './structured.js';

const VALID: readonly [string, string][] = [
  ['1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', 'bitcoin-address'],
  ['3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', 'bitcoin-address'],
  ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 'bitcoin-address'],
  ['BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', 'bitcoin-address'],
  ['bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297', 'bitcoin-address'],
  ['5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ', 'bitcoin-wif-private-key'],
  ['KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617', 'bitcoin-wif-private-key'],
  ['xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi', 'bip32-extended-private-key'],
  ['xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8', 'bip32-extended-public-key'],
  ['GB82WEST12345698765432', 'iban'],
  ['GB82 WEST 1234 5698 7654 32', 'iban'],
  ['DE89370400440532013000', 'iban'],
  ['FR1420041010050500013M02606', 'iban'],
  ['0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045', 'ethereum-address'],
  ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', 'ethereum-address'],
];

function mutate(s: string): string {
  // Change one character in the middle to another of the same alphabet class (the checksum must then fail).
  const i = Math.floor(s.length / 2);
  const c = s.charAt(i);
  const r = /\d/.test(c) ? String((Number(c) + 3) % 10) : c === 'z' ? 'y' : String.fromCharCode(c.charCodeAt(0) + 1);
  return s.slice(0, i) + (r === 'l' || r === 'I' || r === 'O' || r === 'b' ? 'm' : r) + s.slice(i + 1);
}

void test('checksum-valid identifiers are found, by kind; one changed character is not', () => {
  for (const [id, kind] of VALID) {
    assert.deepEqual(financialIds(`value=${id}&x=1`).map((f) => f.detector), [kind], id);
    assert.deepEqual(financialIds(`value=${mutate(id)}&x=1`), [], mutate(id));
  }
  assert.equal(financialIds('k=5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ')[0]?.confidence, 'high');
  assert.equal(financialIds('a=1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa')[0]?.confidence, 'medium');
});

void test('random strings of each alphabet: no finding (checksums, not shapes)', () => {
  const b58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  const b32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const pick = (alphabet: string, n: number): string => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
  let hits = 0;
  for (let i = 0; i < 2000; i++) {
    hits += financialIds(`a=1${pick(b58, 33)} b=5${pick(b58, 50)} c=bc1q${pick(b32, 38)} d=GB${String(10 + (i % 90))}${pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 4)}${pick('0123456789', 14)}`).length;
  }
  // A random IBAN-shaped value passes mod-97 one time in 97: those are IBANs by every check a bank makes.
  assert.ok(hits <= 60, `${hits} random hits`);
  let strict = 0;
  for (let i = 0; i < 2000; i++) strict += financialIds(`a=1${pick(b58, 33)} b=5${pick(b58, 50)} c=bc1q${pick(b32, 38)} e=0x${pick('0123456789abcdefABCDEF', 40)}`).length;
  assert.equal(strict, 0);
});

void test('BIP-39 seed phrases: valid checksums only (the specification\'s vectors), in prose and JSON', () => {
  for (const phrase of [
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
    'legal winner thank year wave sausage worth useful legal winner thank yellow',
    'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong',
    'letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter always',
    'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote',
  ]) {
    const found = financialIds(`{"content": "${phrase}"}`);
    assert.deepEqual(found.map((f) => [f.detector, f.confidence, f.length]), [['bip39-mnemonic', 'high', phrase.length]], phrase);
    assert.deepEqual(financialIds(phrase.replace(/ /g, ',\n')).map((f) => f.detector), ['bip39-mnemonic']);
  }
  // Wrong checksum, too few words, or ordinary prose: nothing.
  assert.deepEqual(financialIds('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon'), []);
  assert.deepEqual(financialIds('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'), []);
  assert.deepEqual(financialIds('please review the pull request about the new cache layer before we merge it into main today or tomorrow'), []);
});

void test('the primitives', () => {
  assert.equal(base58CheckDecode('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa')?.[0], 0);
  assert.equal(base58CheckDecode('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb'), undefined);
  assert.equal(bech32Kind('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'), 'bech32');
  assert.equal(bech32Kind('bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297'), 'bech32m');
  assert.equal(bech32Kind('bc1Qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'), undefined); // mixed case
  assert.equal(keccak256(Buffer.alloc(0)).toString('hex'), 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  assert.equal(keccak256(Buffer.from('abc')).toString('hex'), '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
  assert.equal(eip55Valid('0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359'), true);
  // No checksum in one case: a hash as much as an address.
  assert.equal(eip55Valid('0xd8da6bf26964af9d7eed9e03e53415d37aa96045'), false);
  assert.deepEqual(financialIds('commit=0x3f786850e387550fdab836ed7e6dc881de23001b'), []);
  assert.equal(ibanValid('GB82WEST12345698765432'), true);
  assert.equal(ibanValid('GB82WEST1234569876543'), false); // length for GB is 22
  assert.equal(ibanValid('GB83WEST12345698765432'), false);
});

void test('benign text about addresses, hashes and ids: no finding', () => {
  const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true });
  for (const url of [
    'https://docs.github.com/crypto-guide?topic=address-formats&example=how-bitcoin-addresses-work',
    'https://example.com/commit/3f786850e387550fdab836ed7e6dc881de23001b',
    'https://api.example.com/v1/orders?id=ORD2024DE123456789012&ref=GB00TEST',
    'https://cdn.example.com/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
    'https://example.com/?session=1Z9xK2mQ7pR4tV8wY3bN6cF5hJ0gD',
  ]) assert.deepEqual(scanUrl(scanner, url).filter((f) => ['bitcoin-address', 'iban', 'bitcoin-wif-private-key'].includes(f.detector)), [], url);
});
