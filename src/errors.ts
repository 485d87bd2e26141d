/**
 * Typed errors with stable string codes. Every failure cordon reports to a
 * person carries one of these codes; `exitCodeFor` maps them to process exit
 * statuses in one place.
 */
export const ERROR_CODES = [
  'CORDON_POLICY_INVALID',
  'CORDON_POLICY_NOT_FOUND',
  'CORDON_RULE_INVALID',
  'CORDON_SUBJECT_INVALID',
  'CORDON_HOST_INVALID',
  'CORDON_SHELL_PARSER',
  'CORDON_USAGE',
  'CORDON_AUDIT_IO',
  'CORDON_AUDIT_BROKEN',
  'CORDON_SANDBOX_UNAVAILABLE',
  'CORDON_SANDBOX_FAILED',
  'CORDON_SANDBOX_CMD_NOT_FOUND',
  'CORDON_SANDBOX_CMD_NOT_EXECUTABLE',
  'CORDON_NOT_IMPLEMENTED',
  'CORDON_INTERNAL',
  'CORDON_EGRESS_DNS',
  'CORDON_EGRESS_PROXY',
  'CORDON_MCP_PIN_STORE',
  'CORDON_MCP_SERVER',
  'CORDON_APPROVAL',
  'CORDON_TRIFECTA',
  'CORDON_BROKER',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class CordonError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CordonError';
    this.code = code;
  }
}

/** One positioned problem in a policy file. */
export interface PolicyProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted path inside the document, e.g. `permissions.allow[3]`. */
  readonly path: string;
  readonly message: string;
}

export function formatProblem(p: PolicyProblem): string {
  const where = p.path === '' ? '' : `${p.path}: `;
  return `${p.file}:${p.line}:${p.column}: ${where}${p.message}`;
}

export class PolicyError extends CordonError {
  readonly problems: readonly PolicyProblem[];
  constructor(problems: readonly PolicyProblem[]) {
    super('CORDON_POLICY_INVALID', problems.map(formatProblem).join('\n'));
    this.name = 'PolicyError';
    this.problems = problems;
  }
}

export function isCordonError(e: unknown): e is CordonError {
  return e instanceof CordonError;
}
