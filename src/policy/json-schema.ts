/** The published JSON Schema of policy files, generated from the zod schema. */
import { z } from 'zod';
import { POLICY_SCHEMA } from './schema.js';

export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(POLICY_SCHEMA, { target: 'draft-2020-12', io: 'input' });
  return {
    ...schema,
    $id: 'urn:cordon:schema:policy:1',
    title: 'cordon policy',
  };
}
