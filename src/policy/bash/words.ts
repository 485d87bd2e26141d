/**
 * Static evaluation of shell words from the tree-sitter AST: what a word
 * expands to when that does not depend on run time (quotes removed, escapes
 * resolved), or `null` when it does (parameters, substitutions, ANSI-C
 * strings...). Nothing here splits or re-quotes strings by hand.
 */
import type { Node } from 'web-tree-sitter';

export interface Word {
  readonly node: Node;
  /** The unquoted value, or `null` when the word expands at run time. */
  readonly value: string | null;
  /** The word exactly as written. */
  readonly raw: string;
}

export function toWord(node: Node): Word {
  return { node, value: staticValue(node), raw: node.text };
}

/** The text a word contributes to a command's canonical text: its value when static, else as written. */
export function wordText(word: Word): string {
  return word.value ?? word.raw;
}

/** Unquoted word: a backslash escapes the next character; backslash-newline is a line continuation. */
function unescapeBare(text: string): string {
  return text.replace(/\\(\n|[\s\S])?/g, (_m, c: string | undefined) => (c === undefined || c === '\n' ? '' : c));
}

/** Inside double quotes a backslash only escapes `$`, backtick, `"`, `\` and newline. */
function unescapeDouble(text: string): string {
  return text.replace(/\\([$`"\\\n])/g, (_m, c: string) => (c === '\n' ? '' : c));
}

function doubleQuoted(node: Node): string | null {
  let out = '';
  for (const child of node.children) {
    if (child.type === 'string_content') out += unescapeDouble(child.text);
    else if (!child.isNamed && child.type !== '"') out += child.text; // a lone `$`
    else if (child.isNamed) return null; // an expansion or substitution
  }
  return out;
}

/** The static value of a word node, or `null` when it expands at run time. */
export function staticValue(node: Node): string | null {
  switch (node.type) {
    case 'command_name': {
      const inner = node.firstNamedChild;
      return inner === null ? null : staticValue(inner);
    }
    case 'word':
      return unescapeBare(node.text);
    case 'raw_string':
      return node.text.slice(1, -1);
    case 'string':
      return doubleQuoted(node);
    case 'number':
      return node.namedChildCount === 0 ? node.text : null;
    case 'concatenation': {
      let out = '';
      for (const child of node.children) {
        const v = staticValue(child);
        if (v === null) return null;
        out += v;
      }
      return out;
    }
    default:
      // Anonymous tokens (`$`, `=`, `==`) stand for themselves; every other
      // named node (expansions, substitutions, $'...', $"...") is dynamic.
      return node.isNamed ? null : node.text;
  }
}

/** True when `text` holds one of `chars` that is not escaped by a backslash. */
function hasUnescaped(text: string, chars: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '\\') i++;
    else if (chars.includes(c)) return true;
  }
  return false;
}

/** Nodes that start a separate command, analysed on their own: checks on a word stop there. */
export const isSubstitution = (n: Node): boolean => n.type === 'command_substitution' || n.type === 'process_substitution';

/**
 * Whether `node` or a node below it passes `test`, not looking inside nodes
 * for which `skip` holds (the root excepted). Iterative, so deep trees cannot
 * exhaust the stack.
 */
export function someDescendant(node: Node, test: (n: Node) => boolean, skip: (n: Node) => boolean = isSubstitution): boolean {
  const stack = [node];
  for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
    if (test(n)) return true;
    for (const c of n.children) if (!skip(c)) stack.push(c);
  }
  return false;
}

/** Whether any node lies more than `limit` levels below `node`; walks with a cursor and stops early. */
export function deeperThan(node: Node, limit: number): boolean {
  const cursor = node.walk();
  try {
    let depth = 0;
    for (;;) {
      if (cursor.gotoFirstChild()) {
        if (++depth > limit) return true;
        continue;
      }
      while (!cursor.gotoNextSibling()) {
        if (depth === 0 || !cursor.gotoParent()) return false;
        depth--;
      }
    }
  } finally {
    cursor.delete();
  }
}

/**
 * Why a command-name word cannot be trusted, or `null` when it is a plain
 * static name. Globs and braces are checked on unquoted pieces only.
 */
export function commandNameProblem(node: Node): string | null {
  if (someDescendant(node, (n) => n.type === 'ansi_c_string')) {
    return "The command name uses ANSI-C quoting ($'...').";
  }
  if (staticValue(node) === null) return 'The command name is not static.';
  const bareGlob = (n: Node): boolean => n.type === 'word' && hasUnescaped(n.text, '*?[]{}');
  if (someDescendant(node, bareGlob)) return 'The command name uses glob or brace expansion.';
  return null;
}
