import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { policyJsonSchema } from './json-schema.js';

void it('the published JSON Schema is the one generated from the zod schema (run `npm run schema` after changing it)', () => {
  const published = JSON.parse(readFileSync(new URL('../../schema/policy.schema.json', import.meta.url), 'utf8')) as unknown;
  assert.deepEqual(published, policyJsonSchema());
  const s = policyJsonSchema() as { additionalProperties?: unknown; required?: unknown };
  assert.equal(s.additionalProperties, false, 'unknown top-level keys are errors');
  assert.deepEqual(s.required, ['version']);
});
