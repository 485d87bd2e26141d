import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from './seeded-random.js';

void test('the same seed gives the same sequence; floats in [0, 1), spread over the range', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const xs = Array.from({ length: 10_000 }, () => a());
  assert.deepEqual(Array.from({ length: 10_000 }, () => b()), xs);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const buckets = new Array<number>(10).fill(0);
  for (const x of xs) buckets[Math.floor(x * 10)] = (buckets[Math.floor(x * 10)] ?? 0) + 1;
  assert.ok(buckets.every((n) => n > 800 && n < 1200), buckets.join(','));
  assert.notDeepEqual(Array.from({ length: 10 }, seededRandom(43)), xs.slice(0, 10));
});
