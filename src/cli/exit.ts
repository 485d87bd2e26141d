/**
 * The one place where errors become exit statuses. `run` reserves 125 for
 * "cordon itself failed" (126/127 come from the command, as in a shell);
 * other commands use 1 for invalid input and 2 for usage errors.
 */
import type { ErrorCode } from '../errors.js';

export type CommandFamily = 'run' | 'policy' | 'audit' | 'scan' | 'other';

export function exitCodeFor(code: ErrorCode, family: CommandFamily): number {
  if (family === 'run') {
    if (code === 'CORDON_SANDBOX_CMD_NOT_FOUND') return 127;
    if (code === 'CORDON_SANDBOX_CMD_NOT_EXECUTABLE') return 126;
    return 125;
  }
  switch (code) {
    case 'CORDON_USAGE':
    case 'CORDON_SUBJECT_INVALID':
      return 2;
    case 'CORDON_POLICY_INVALID':
    case 'CORDON_POLICY_NOT_FOUND':
    case 'CORDON_RULE_INVALID':
    case 'CORDON_AUDIT_BROKEN':
      return family === 'scan' ? 2 : 1;
    case 'CORDON_NOT_IMPLEMENTED':
    case 'CORDON_AUDIT_IO':
    case 'CORDON_HOST_INVALID':
    case 'CORDON_SHELL_PARSER':
    case 'CORDON_SANDBOX_UNAVAILABLE':
    case 'CORDON_SANDBOX_FAILED':
    case 'CORDON_SANDBOX_CMD_NOT_FOUND':
    case 'CORDON_SANDBOX_CMD_NOT_EXECUTABLE':
    case 'CORDON_INTERNAL':
    case 'CORDON_EGRESS_DNS':
    case 'CORDON_EGRESS_PROXY':
    case 'CORDON_MCP_PIN_STORE':
    case 'CORDON_MCP_SERVER':
    case 'CORDON_APPROVAL':
    case 'CORDON_TRIFECTA':
    case 'CORDON_BROKER':
      return 2;
  }
}

/** Usage errors (bad flags) by family: `run` must not collide with the command's own statuses. */
export function usageExitCode(family: CommandFamily): number {
  return family === 'run' ? 125 : 2;
}
