/**
 * Reads a policy document (YAML or JSON) keeping source positions, so that
 * every later problem can be reported as `file:line:column: path: message`.
 */
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { PolicyProblem } from '../errors.js';
import { MAX_POLICY_BYTES } from './read-file.js';

export { MAX_POLICY_BYTES };

export type PathSegment = string | number;

export interface PolicySource {
  readonly file: string;
  readonly value: unknown;
  /** Position of the node at `path`, or of its closest existing ancestor. */
  position(path: readonly PathSegment[]): { line: number; column: number };
  /** Position of the key that ends `path` (for unknown or misplaced keys). */
  keyPosition(path: readonly PathSegment[]): { line: number; column: number };
}

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

function problem(file: string, line: number, column: number, path: string, message: string): PolicyProblem {
  return { file, line, column, path, message };
}

/** The YAML library's messages that name its own API or internals, said as what to change in the file. */
function yamlAdvice(msg: string): string {
  if (/call stack|too much recursion/i.test(msg)) return 'the document nests too deeply to be read; a policy needs only a few levels, so remove the nesting';
  if (/multiple documents/i.test(msg)) return 'the file holds more than one YAML document; a policy file is one document, so remove the `---` separators or split it into files';
  return msg;
}

/** Parses text; on failure returns positioned problems instead of a source. */
export function readPolicySource(file: string, text: string): PolicySource | PolicyProblem[] {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) {
    return [problem(file, 1, 1, '', `file is larger than ${MAX_POLICY_BYTES} bytes; split it or remove unused rules`)];
  }
  if (text.includes('\u0000')) {
    const at = positionOfOffset(text, text.indexOf('\u0000'));
    return [problem(file, at.line, at.column, '', 'file contains a NUL byte; is this really a policy file?')];
  }
  const lineCounter = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, {
      lineCounter,
      uniqueKeys: true,
      prettyErrors: false,
      strict: true,
    });
  } catch (e) {
    return [problem(file, 1, 1, '', `cannot parse: ${e instanceof Error ? e.message : String(e)}`)];
  }
  if (doc.errors.length > 0) {
    return doc.errors.slice(0, 20).map((err) => {
      const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
      const msg = err.message.split('\n')[0] ?? err.message;
      return problem(file, pos.line, pos.col, '', `YAML syntax error: ${yamlAdvice(msg)}`);
    });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return [problem(file, 1, 1, '', `cannot read document: ${e instanceof Error ? e.message : String(e)}`)];
  }
  const position = (path: readonly PathSegment[]): { line: number; column: number } => {
    // The node itself, or its closest existing ancestor when it is missing.
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) {
        const pos = lineCounter.linePos(node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return { line: 1, column: 1 };
  };
  const keyPosition = (path: readonly PathSegment[]): { line: number; column: number } => {
    const last = path[path.length - 1];
    if (typeof last === 'string') {
      const parent: unknown = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === last);
        if (pair && isNode(pair.key) && pair.key.range) {
          const pos = lineCounter.linePos(pair.key.range[0]);
          return { line: pos.line, column: pos.col };
        }
      }
    }
    return position(path);
  };
  return { file, value, position, keyPosition };
}

function positionOfOffset(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}
