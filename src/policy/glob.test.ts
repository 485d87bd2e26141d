import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileGlob, compileSegmentName } from './glob.js';
import { seededRandom as rng } from '../seeded-random.js';

const NAMES = ['.env', '.env.local', '.env.prod.local', 'a', 'b', 'src', 'secrets', 'x.pem', 'id_rsa', 'id_rsa.pub', 'a.env', '[x]', 'ü.pem', 'sub', 'node', '.git'];
const GLOBS = ['.env', '.env.local', '.env.*.local', '*.pem', 'id_*', 'secrets/', '[ab].env', '?.env', 'ü*', '\\[x\\]', 'a**b', '.git'];

interface Tree { readonly [name: string]: Tree }

function randomTree(r: () => number, depth: number): Tree {
  const t: Record<string, Tree> = {};
  const n = depth === 0 ? 0 : Math.floor(r() * 5);
  for (let i = 0; i < n; i++) t[NAMES[Math.floor(r() * NAMES.length)] ?? 'a'] = randomTree(r, depth - 1);
  return t;
}

/** The walk realizePlan makes: test each entry, do not descend into a hit. */
function walk(root: string, tree: Tree, denied: (p: string, name: string) => boolean): string[] {
  const hits: string[] = [];
  const queue: [string, Tree][] = [[root, tree]];
  for (let i = 0; i < queue.length; i++) {
    const [dir, t] = queue[i] ?? [root, tree];
    for (const [name, sub] of Object.entries(t)) {
      const p = `${dir}/${name}`;
      if (denied(p, name)) hits.push(p);
      else queue.push([p, sub]);
    }
  }
  return hits;
}

void test('a one-segment any-depth glob tested on the name finds what the full regex finds in a walk', () => {
  const r = rng(20261123);
  const ws = '/w/s';
  let compared = 0;
  for (let round = 0; round < 300; round++) {
    const tree = randomTree(r, 5);
    const glob = GLOBS[Math.floor(r() * GLOBS.length)] ?? '.env';
    const base = r() < 0.7 ? ws : `${ws}/sub`;
    const full = compileGlob(glob, base, true, glob);
    const name = compileSegmentName(glob, glob);
    assert.ok(name !== null, glob);
    const below = `${base}/`;
    const slow = walk(ws, tree, (p) => full.test(p));
    const fast = walk(ws, tree, (p, n) => p.startsWith(below) && name.test(n));
    assert.deepEqual(fast, slow, `${glob} under ${base}`);
    compared += slow.length;
  }
  assert.ok(compared > 100, `the random trees produced few hits (${compared}): the comparison would prove little`);
});

void test('compileSegmentName refuses what is not one segment', () => {
  assert.equal(compileSegmentName('**', '**'), null);
  assert.equal(compileSegmentName('a/b', 'a/b'), null);
  assert.notEqual(compileSegmentName('secrets/', 'secrets/'), null);
});
