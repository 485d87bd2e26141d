import assert from 'node:assert/strict';
import test from 'node:test';
import { seededRandom } from '../seeded-random.js';
import { isoTimestamp } from './timestamp.js';

void test('isoTimestamp equals toISOString: random instants, second and year boundaries, the ends of the 4-digit range', () => {
  const rand = seededRandom(6);
  const cases: number[] = [0, 999, 1000, 1001, -1, -999, -1000, -1001, 951_782_399_999, 951_782_400_000, 253_402_300_799_999, -62_167_219_200_000, Date.now()];
  for (let i = 0; i < 20_000; i++) {
    const base = Math.floor((rand() * 2 - 1) * 8e12);
    cases.push(base, base + 1, base + 999);
  }
  for (const ms of cases) assert.equal(isoTimestamp(ms), new Date(ms).toISOString(), String(ms));
  // The same second again after another one (the cache is per second, not a single first value).
  assert.equal(isoTimestamp(5_000_123), new Date(5_000_123).toISOString());
  assert.equal(isoTimestamp(7_000_001), new Date(7_000_001).toISOString());
  assert.equal(isoTimestamp(5_000_999), new Date(5_000_999).toISOString());
});

void test('isoTimestamp: instants outside 0000-9999 and fractional milliseconds fall back to toISOString', () => {
  for (const ms of [253_402_300_800_000, -62_167_219_200_001, 8.64e15, 1.5]) assert.equal(isoTimestamp(ms), new Date(ms).toISOString());
});
