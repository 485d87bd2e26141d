/** The compiled-policy cache: a hit decides exactly like a fresh load, and any change to a file is a miss. */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadPolicyCached, policyCacheKey } from './cache.js';
import { PolicyEngine } from './engine.js';
import { loadPolicy } from './load.js';
import { tempDirs } from './test-helpers.js';

void describe('policy cache', () => {
  void it('hits when nothing changed, misses when a byte changed, and decides the same', async () => {
    const { root, workspace, home } = tempDirs();
    process.env.XDG_STATE_HOME = path.join(root, 'state');
    const file = path.join(workspace, 'cordon.yaml');
    writeFileSync(file, 'version: 1\npermissions:\n  allow: ["Net(a.example)"]\n');
    const opts = { workspace, home, managedFile: null, userFile: null };
    const k1 = policyCacheKey(opts);
    const first = await loadPolicyCached(opts);
    assert.equal(readdirSync(path.join(root, 'state', 'cordon', 'cache')).length, 1);
    const second = await loadPolicyCached(opts);
    const fresh = loadPolicy(opts);
    assert.deepEqual(second.rules, fresh.rules);
    const e = new PolicyEngine(second.matchers, second.context);
    assert.equal(e.decide({ kind: 'Net', host: { name: 'a.example', type: 'dns' }, port: 443 }).effect, 'allow');
    assert.equal(e.decide({ kind: 'Read', path: path.join(home, '.ssh', 'id_rsa') }).effect, 'deny');
    assert.equal(first.rules.length, second.rules.length);
    writeFileSync(file, 'version: 1\npermissions:\n  allow: ["Net(b.example)"]\n');
    assert.notEqual(policyCacheKey(opts), k1);
    const third = await loadPolicyCached(opts);
    const e3 = new PolicyEngine(third.matchers, third.context);
    assert.equal(e3.decide({ kind: 'Net', host: { name: 'a.example', type: 'dns' }, port: 443 }).effect, 'deny');
  });

  void it('a broken file is never served from the cache', async () => {
    const { root, workspace, home } = tempDirs();
    process.env.XDG_STATE_HOME = path.join(root, 'state');
    writeFileSync(path.join(workspace, 'cordon.yaml'), 'version: 1\npermissions:\n  allow: ["Nett(x)"]\n');
    await assert.rejects(loadPolicyCached({ workspace, home, managedFile: null, userFile: null }), /unknown rule kind 'Nett'/);
    await assert.rejects(loadPolicyCached({ workspace, home, managedFile: null, userFile: null }), /unknown rule kind 'Nett'/);
  });
});
