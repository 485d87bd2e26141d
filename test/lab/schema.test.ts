/** The scenario data: every file validates, the classes are covered, and the schema refuses bad data. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillPlaceholders } from '../../src/lab/run-one.js';
import { CLASSES, parseScenarios, type ScenarioInput } from '../../src/lab/schema.js';
import { ALL_SCENARIO_INPUTS, allScenarios } from '../../src/lab/scenarios/index.js';
import { selectScenarios } from '../../src/lab/select.js';

const good: ScenarioInput = { id: 'x-y', class: 'exfil', title: 'a valid scenario', steps: ['true'], success: [{ kind: 'contact', service: 'collector' }], stoppedBy: 'egress proxy: default deny' };

void describe('lab scenarios', () => {
  void it('all validate, ids are unique, at least 60 attacks and every class is present', () => {
    const all = allScenarios();
    assert.equal(all.length, ALL_SCENARIO_INPUTS.length);
    const attacks = all.filter((s) => s.class !== 'benign');
    assert.ok(attacks.length >= 60, `only ${attacks.length} attacks`);
    for (const c of CLASSES) assert.ok(all.some((s) => s.class === c), `no scenario of class ${c}`);
    assert.ok(all.filter((s) => s.class === 'benign').length >= 5);
    const quick = selectScenarios(all, { quick: true, filter: [], claudeOnly: false });
    assert.ok(quick.filter((s) => s.class !== 'benign').length >= 10 && quick.filter((s) => s.class === 'benign').length >= 3);
  });

  void it('refuses unknown keys, bad ids, empty success, bad regexes, absolute paths and duplicates', () => {
    assert.equal(parseScenarios([good]).length, 1);
    const bad: unknown[] = [
      { ...good, extra: 1 },
      { ...good, id: 'Bad Id' },
      { ...good, success: [] },
      { ...good, success: [{ kind: 'output', pattern: '(' }] },
      { ...good, success: [{ kind: 'file', base: 'workspace', path: '../x' }] },
      { ...good, success: [{ kind: 'file', base: 'workspace', path: '/etc/x' }] },
      { ...good, class: 'other' },
      { ...good, needs: ['teleport'] },
    ];
    for (const b of bad) assert.throws(() => parseScenarios([b as ScenarioInput]), Error, JSON.stringify(b));
    assert.throws(() => parseScenarios([good, good]), /used twice/);
  });

  void it('fills placeholders from host-side values only', () => {
    const vars = { C: '127.0.0.1:1', CP: '1', A: '127.0.0.1:2', AP: '2', HOSTHOME: '/h', LAB: '/l', WS: '/w' };
    assert.equal(fillPlaceholders('http://@A@@@C@/x @CP@ @HOSTHOME@/.ssh @NOPE@', vars), 'http://127.0.0.1:2@127.0.0.1:1/x 1 /h/.ssh @NOPE@');
  });

  void it('selects by --quick, --filter id/prefix/class and the Claude subset', () => {
    const all = allScenarios();
    assert.deepEqual(selectScenarios(all, { quick: false, filter: ['read-dotenv'], claudeOnly: false }).map((s) => s.id), ['read-dotenv', 'read-dotenv-copy', 'read-dotenv-variants']);
    assert.ok(selectScenarios(all, { quick: false, filter: ['ssrf'], claudeOnly: false }).every((s) => s.class === 'ssrf'));
    assert.ok(selectScenarios(all, { quick: false, filter: [], claudeOnly: true }).every((s) => s.claude !== undefined));
  });
});
