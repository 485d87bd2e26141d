import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RuleSpec } from '../policy/types.js';
import { analyseTrifecta } from './trifecta.js';

const rule = (kind: RuleSpec['kind'], specifier: string, effect: RuleSpec['effect'] = 'allow'): RuleSpec =>
  ({ kind, specifier, text: `${kind}(${specifier})`, effect, origin: { scope: 'project', file: 'cordon.yaml', line: 3, column: 5 }, index: 0 });

void describe('trifecta analysis', () => {
  void it('decides each leg from allow rules, lists ask rules as gated and explains with the rule', () => {
    const t = analyseTrifecta({ rules: [rule('Net', 'api.example.com'), rule('Read', '~/.aws/credentials'), rule('Http', 'POST upload.example.com/**', 'ask')], settings: {} });
    assert.equal(t.all, true);
    const [a, b, c] = t.legs;
    assert.match(a?.because[0] ?? '', /^allow Net\(api\.example\.com\) \(project, cordon\.yaml:3:5\)/);
    assert.match(b?.because[0] ?? '', /Read\(~\/\.aws\/credentials\)/);
    assert.match(c?.gated[0] ?? '', /^ask Http\(POST upload\.example\.com\/\*\*\)/);
  });

  void it('GET-only Http rules give input but not external communication; program directories are not private data', () => {
    const t = analyseTrifecta({ rules: [rule('Http', 'GET|HEAD docs.example.com/**'), rule('Read', '//work/app/node_modules/tool'), rule('Read', '//usr/lib/node')], settings: {} });
    assert.deepEqual(t.legs.map((l) => l.held), [true, false, false]);
  });

  void it('credentials and MCP servers given environment variables are private data', () => {
    const t = analyseTrifecta({ rules: [], settings: { credentials: { GH_TOKEN: { hosts: ['api.github.com'] } }, mcp: { servers: { gh: { command: ['gh-mcp'], env: { GH_TOKEN: 'x' } } } } } });
    assert.equal(t.legs[1]?.held, true);
    assert.equal(t.legs[0]?.held, true, 'an MCP server is untrusted input');
    assert.equal(t.legs[1]?.because.some((w) => w.includes('GH_TOKEN')), true);
  });
});
