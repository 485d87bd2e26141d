/**
 * Test values for DLP tests, generated at test time. Nothing here is a real
 * credential: random bodies come from a seeded generator, checksums are
 * computed, and fixed values carry EXAMPLE/FAKE markers where the format allows.
 */
import { makeChecksummedToken } from '../../src/dlp/crc32.js';

let seed = 0x5eed;
function next(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const HEX = '0123456789abcdef';

export function rand(n: number, alphabet = B62): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet.charAt(Math.floor(next() * alphabet.length));
  return s;
}

/** A random string that certainly mixes upper, lower and digits. */
export function mixed(n: number): string {
  return `Aa1${rand(n - 3)}`;
}

export const fake = {
  github: (): string => makeChecksummedToken('ghp', rand(30)),
  npm: (): string => makeChecksummedToken('npm', rand(30)),
  awsId: (): string => `AKIA${rand(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
  awsSecret: (): string => `${mixed(38)}/+`,
  anthropic: (): string => `sk-ant-api03-${rand(93, `${B62}_-`)}AA`,
  openai: (): string => `sk-proj-${rand(60)}T3BlbkFJ${rand(60)}`,
  slack: (): string => `xoxb-${rand(11, '0123456789')}-${rand(13, '0123456789')}-${rand(24)}`,
  stripe: (): string => `sk_live_${rand(24)}`,
  jwt: (): string => `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"example"}').toString('base64url')}.${rand(43, `${B62}_-`)}`,
};

/** An RSA-shaped PEM block whose body is random base64 (not a usable key). */
export function fakePem(kind = 'RSA PRIVATE KEY', lines = 12): string {
  const body = Array.from({ length: lines }, () => rand(64, `${B62}+/`)).join('\n');
  return `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----`;
}
