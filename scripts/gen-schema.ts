/** Writes schema/policy.schema.json from the zod schema (run: npm run schema). */
import { writeFileSync } from 'node:fs';
import { policyJsonSchema } from '../src/policy/json-schema.js';

const target = new URL('../schema/policy.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
