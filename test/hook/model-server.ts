/** The scripted Messages API server lives in src/lab (the lab's `--agent claude` uses it too). */
export { startModelServer } from '../../src/lab/model-server.js';
export type { ModelServer, ScriptedCall, ToolResult } from '../../src/lab/model-server.js';
