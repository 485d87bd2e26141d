/**
 * A stand-in for `cordon hook ...` / `cordon init ...` until main.ts wires
 * src/cli/hook-cmd.ts: the same exported functions, called from a real process.
 */
import { parseArgs } from 'node:util';
import { hookCommand, initCommand } from '../../src/cli/hook-cmd.js';
import { isCordonError } from '../../src/errors.js';

const [command, harness = '', ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: {
    policy: { type: 'string', multiple: true },
    profile: { type: 'string' },
    workspace: { type: 'string' },
    'answer-allow': { type: 'boolean' },
    'ask-wait': { type: 'string' },
    managed: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    user: { type: 'boolean' },
    file: { type: 'string' },
  },
});

if (command === 'hook') {
  process.exitCode = await hookCommand(harness, {
    ...(values.policy === undefined ? {} : { policy: values.policy }),
    ...(values.profile === undefined ? {} : { profile: values.profile }),
    ...(values.workspace === undefined ? {} : { workspace: values.workspace }),
    answerAllow: values['answer-allow'] === true,
    ...(values['ask-wait'] === undefined ? {} : { askWait: values['ask-wait'] }),
  });
} else if (command === 'init') {
  try {
    process.exitCode = initCommand(harness, {
      managed: values.managed === true,
      dryRun: values['dry-run'] === true,
      user: values.user === true,
      ...(values.file === undefined ? {} : { file: values.file }),
      ...(values.workspace === undefined ? {} : { workspace: values.workspace }),
    });
  } catch (e) {
    process.stderr.write(`cordon: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = isCordonError(e) && e.code !== 'CORDON_USAGE' ? 1 : 2;
  }
} else {
  process.stderr.write('usage: entry.ts hook|init <harness> [options]\n');
  process.exitCode = 2;
}
