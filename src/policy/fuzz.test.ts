/**
 * Fuzz: random and mutated policy files and rule strings. Every input either
 * loads or fails with positioned problems; nothing crashes or hangs.
 * Seeded and bounded, so a failure is reproducible (the seed is printed).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CordonError, PolicyError } from '../errors.js';
import { loadShellParser } from './bash/index.js';
import { compileRule } from './match/compile.js';
import { Policy } from './policy.js';
import { parseRule } from './rule-parse.js';
import { parseSubject } from './subject.js';
import { tempDirs } from './test-helpers.js';
import { seededRandom as rng } from '../seeded-random.js';

const SEED = Number(process.env.CORDON_FUZZ_SEED ?? Date.now() % 1_000_000);
const ITERATIONS = Number(process.env.CORDON_FUZZ_ITERATIONS ?? 400);

const SAMPLE = `version: 1
extends: [default]
permissions:
  deny:  ["Read(~/.ssh/**)", "Net(*.pastebin.com)"]
  ask:   ["Http(POST github.com/*/*/git-receive-pack)", "mcp__github__create_*"]
  allow: ["Edit(./**)", "Net(registry.npmjs.org)", "Net(api.anthropic.com:443)",
          "Net(127.0.0.1:8080)", "Bash(npm run test:*)"]
  ask:
    - rule: mcp__fs__write_file
      args: { path: { outside_workspace: true } }
dlp:
  action: block
  known_secrets: { env: ["*_TOKEN", "*_KEY"] }
credentials:
  ANTHROPIC_API_KEY: { hosts: [api.anthropic.com], header: x-api-key }
mcp:
  servers:
    fs: { command: [npx, -y, "@modelcontextprotocol/server-filesystem", "."] }
approvals: { ttl: 120s, channels: [tty, web] }
`;

const ALPHABET = ['(', ')', '[', ']', '{', '}', ':', ',', '-', '"', "'", '*', '.', '/', '\\', '\n', ' ', '\t', '#', '&', '!', '|', '>', '%', '@', '\u0000', '\u200b', '\u202e', 'é', '𝔸', 'Net', 'Bash(', 'mcp__', '~/', '//', '**', '0x7f.1', '[::1]', 'version: 1\n'];

function mutate(text: string, r: () => number): string {
  let out = text;
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (out.length + 1));
    const op = r();
    if (op < 0.35) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(r() * 8));
    else if (op < 0.8) out = out.slice(0, at) + (ALPHABET[Math.floor(r() * ALPHABET.length)] ?? '') + out.slice(at);
    else {
      const from = Math.floor(r() * out.length);
      out = out.slice(0, at) + out.slice(from, from + Math.floor(r() * 40)) + out.slice(at);
    }
  }
  return out;
}

function randomRule(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)] ?? '';
  const kinds = ['Read', 'Edit', 'Bash', 'Net', 'Http', 'WebFetch', 'mcp__a__', 'Nett', ''];
  return r() < 0.7 ? `${kinds[Math.floor(r() * kinds.length)] ?? ''}(${s})` : s;
}

void describe(`policy fuzz (seed ${SEED}, ${ITERATIONS} iterations; set CORDON_FUZZ_SEED to replay)`, () => {
  void it('mutated policy files load or fail with positioned problems', () => {
    const r = rng(SEED);
    const { root, workspace, home } = tempDirs();
    const file = path.join(root, 'fuzz.yaml');
    let loaded = 0;
    let rejected = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const text = mutate(SAMPLE, r);
      writeFileSync(file, text);
      const started = performance.now();
      try {
        Policy.load({ workspace, home, managedFile: null, userFile: null, projectFile: null, files: [file] });
        loaded++;
      } catch (e) {
        if (!(e instanceof PolicyError)) assert.fail(`iteration ${i}: ${String(e)}\n--- input ---\n${text}`);
        rejected++;
        for (const p of e.problems) {
          assert.ok(p.line >= 1 && p.column >= 1 && p.file === file && p.message.length > 0, `iteration ${i}: unpositioned problem ${JSON.stringify(p)}`);
        }
      }
      assert.ok(performance.now() - started < 2000, `iteration ${i} took too long`);
    }
    assert.ok(rejected > 0 && loaded + rejected === ITERATIONS);
  });

  void it('random rule strings parse and compile or fail with CordonError', () => {
    const r = rng(SEED + 1);
    const ctx = { workspace: '/w', home: '/h' };
    for (let i = 0; i < ITERATIONS * 5; i++) {
      const text = randomRule(r);
      try {
        const parsed = parseRule(text);
        if ('claudeTool' in parsed) continue;
        compileRule({ ...parsed, effect: 'deny', origin: { scope: 'cli', file: 'f', line: 1, column: 1 }, index: 0 }, ctx);
      } catch (e) {
        assert.ok(e instanceof CordonError, `rule ${JSON.stringify(text)} threw ${String(e)}`);
      }
    }
  });

  void it('random subjects are decided or rejected with CordonError', async () => {
    await loadShellParser();
    const r = rng(SEED + 2);
    const { workspace, home } = tempDirs();
    const policy = Policy.load({ workspace, home, managedFile: null, userFile: null, projectFile: null });
    for (let i = 0; i < ITERATIONS; i++) {
      const text = randomRule(r);
      try {
        const d = policy.decide(await parseSubject(text, policy.loaded.context));
        assert.ok(['allow', 'ask', 'deny'].includes(d.effect));
      } catch (e) {
        assert.ok(e instanceof CordonError, `subject ${JSON.stringify(text)} threw ${String(e)}`);
      }
    }
  });
});
