/** Public surface of the shell-command side of the policy language. */
export { loadShellParser, isShellParserLoaded } from './parser.js';
export { analyzeCommand, analyzeCommandSync, MAX_SHELL_NESTING } from './analyze.js';
export { MAX_SOURCE_BYTES } from './source-check.js';
export { compileBashPattern } from './pattern.js';
export type { BashPattern } from './pattern.js';
