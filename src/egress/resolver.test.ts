import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DecisionEvent } from '../audit/record.js';
import { rulesPolicy } from '../policy/test-helpers.js';
import { DestinationGate } from './destination.js';
import { cachingResolver, resolveWithin, type ResolvedAddress, type Resolver } from './resolver.js';

/** A resolver answering from a table, counting the questions it got. */
function counting(answers: (name: string, nth: number) => readonly ResolvedAddress[] | Error): { resolver: Resolver; asked: string[] } {
  const asked: string[] = [];
  const resolver: Resolver = (name) => {
    const nth = asked.filter((n) => n === name).length;
    asked.push(name);
    const a = answers(name, nth);
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
  return { resolver, asked };
}

void describe('cachingResolver', () => {
  void it('keeps an answer for its TTL (capped), then asks again', async () => {
    let t = 1000;
    const { resolver, asked } = counting((_name, nth) => [{ address: nth === 0 ? '45.1.2.3' : '45.1.2.4', family: 4, ttl: 30 }]);
    const r = cachingResolver(resolver, { now: () => t, maxTtlMs: 10_000 });
    assert.equal((await r('a.test'))[0]?.address, '45.1.2.3');
    t += 9_999;
    assert.equal((await r('a.test'))[0]?.address, '45.1.2.3', 'within the cap: the kept answer');
    t += 1;
    assert.equal((await r('a.test'))[0]?.address, '45.1.2.4', 'after the cap (below the TTL of 30 s): asked again');
    assert.deepEqual(asked, ['a.test', 'a.test']);
  });

  void it('uses the smallest TTL of the answer; keeps nothing for TTL 0 or no TTL', async () => {
    let t = 0;
    const { resolver, asked } = counting((name) => {
      if (name === 'mixed.test') return [{ address: '45.1.2.3', family: 4, ttl: 300 }, { address: '45.1.2.4', family: 4, ttl: 2 }];
      if (name === 'zero.test') return [{ address: '45.1.2.3', family: 4, ttl: 0 }];
      return [{ address: '45.1.2.3', family: 4 }];
    });
    const r = cachingResolver(resolver, { now: () => t });
    await r('mixed.test');
    t += 1999;
    await r('mixed.test');
    t += 1;
    await r('mixed.test');
    await r('zero.test');
    await r('zero.test');
    await r('none.test');
    await r('none.test');
    assert.deepEqual(asked, ['mixed.test', 'mixed.test', 'zero.test', 'zero.test', 'none.test', 'none.test']);
  });

  void it('keys by the name asked; concurrent lookups share one query; failures and empty answers are not kept', async () => {
    const { resolver, asked } = counting((name, nth) => {
      if (name === 'fail.test') return nth === 0 ? Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' }) : [{ address: '45.1.2.5', family: 4, ttl: 60 }];
      if (name === 'empty.test') return [];
      return [{ address: name === 'b.test' ? '45.1.2.6' : '45.1.2.7', family: 4, ttl: 60 }];
    });
    const r = cachingResolver(resolver);
    const [x, y] = await Promise.all([r('b.test'), r('b.test')]);
    assert.equal(x, y);
    assert.equal((await r('c.test'))[0]?.address, '45.1.2.7');
    await assert.rejects(r('fail.test'));
    assert.equal((await r('fail.test'))[0]?.address, '45.1.2.5');
    assert.deepEqual(await r('empty.test'), []);
    assert.deepEqual(await r('empty.test'), []);
    assert.deepEqual(asked, ['b.test', 'c.test', 'fail.test', 'fail.test', 'empty.test', 'empty.test']);
    await assert.rejects(resolveWithin(r, 'empty.test', 1000), { code: 'CORDON_EGRESS_DNS' });
  });

  void it('holds at most maxEntries names, dropping the least recently used', async () => {
    const { resolver, asked } = counting(() => [{ address: '45.1.2.3', family: 4, ttl: 60 }]);
    const r = cachingResolver(resolver, { maxEntries: 2 });
    await r('a.test');
    await r('b.test');
    await r('a.test');
    await r('c.test');
    await r('a.test');
    await r('b.test');
    assert.deepEqual(asked, ['a.test', 'b.test', 'c.test', 'b.test']);
  });

  void it('a kept answer is a frozen copy (a caller cannot change what the next one is checked against)', async () => {
    const { resolver } = counting(() => [{ address: '45.1.2.3', family: 4, ttl: 60 }]);
    const r = cachingResolver(resolver);
    await r('a.test');
    const kept = await r('a.test');
    assert.ok(Object.isFrozen(kept));
  });
});

void describe('cached answers through the destination gate', () => {
  void it('every use of a kept answer is checked again: a private answer stays refused without a second query', async () => {
    const { resolver, asked } = counting((name) => [{ address: name === 'priv.wild.test' ? '10.0.0.1' : '45.1.2.3', family: 4, ttl: 60 }]);
    const { policy } = rulesPolicy({ allow: ['Net(*.wild.test)', 'Net(named.test)'] });
    const events: DecisionEvent[] = [];
    const gate = new DestinationGate({ policy, resolver: cachingResolver(resolver), publish: (e) => events.push(e) });
    const subject = (host: string) => ({ kind: 'Net', host: { type: 'dns', name: host }, port: 443 } as const);
    for (let i = 0; i < 2; i += 1) {
      const r = await gate.check(subject('priv.wild.test'));
      assert.equal(r.ok, false, 'a wildcard rule does not reach 10.0.0.1, cached or not');
    }
    const ok = await gate.check(subject('pub.wild.test'));
    assert.ok(ok.ok && ok.addresses[0]?.address === '45.1.2.3');
    const denied = await gate.check(subject('other.test'));
    assert.equal(denied.ok, false);
    assert.deepEqual(asked, ['priv.wild.test', 'pub.wild.test'], 'one query per allowed name; a denied name is never resolved');
    assert.deepEqual(events.map((e) => e.decision), ['deny', 'deny', 'allow', 'deny']);
  });
});
