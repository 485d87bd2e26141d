/**
 * Shell command analysis: every simple command a command line would run,
 * found on the tree-sitter bash AST, plus the reasons it cannot be fully
 * accounted for. Allow rules must cover every part; anything unsafe is `ask`
 * at best (the engine decides).
 */
import type { Node } from 'web-tree-sitter';
import type { CommandAnalysis, CommandPart } from '../types.js';
import { analyzeSimpleCommand, assigningBuiltinReason, assignmentName, assignmentText } from './command.js';
import { loadShellParser, withShellTree } from './parser.js';
import { hasHiddenJoin } from './continuation.js';
import { checkSource } from './source-check.js';
import { deeperThan, isSubstitution, someDescendant, toWord, wordText } from './words.js';
import { isDangerousVariable } from './wrappers.js';

/** Levels of `bash -c` (and escaped-backtick) nesting followed before giving up. */
export const MAX_SHELL_NESTING = 8;
/** AST depth walked before giving up, so deeply nested input cannot exhaust the stack. */
const MAX_AST_DEPTH = 256;

interface Accumulator {
  readonly parts: CommandPart[];
  readonly unsafe: string[];
  readonly writes: string[];
}

interface Walk {
  readonly acc: Accumulator;
  /** `bash -c` nesting level of the source being walked (0 = the command line itself). */
  readonly shellDepth: number;
}

function flag(acc: Accumulator, reason: string): void {
  if (!acc.unsafe.includes(reason)) acc.unsafe.push(reason);
}

/** Output redirection operators; `>&N` / `<&N` with a number only duplicate a descriptor. */
const WRITE_OPS = new Set(['>', '>>', '>|', '&>', '&>>', '>&', '<>']);

function recordRedirect(node: Node, acc: Accumulator): void {
  const op = node.children.find((c) => !c.isNamed)?.type;
  const dest = node.childForFieldName('destination');
  if (op === undefined || dest === null || !WRITE_OPS.has(op)) return;
  if (op === '>&' && dest.type === 'number') return;
  const target = toWord(dest).value;
  if (target === null) flag(acc, 'An output redirection target is not static.');
  else if (target !== '-' && !acc.writes.includes(target)) acc.writes.push(target);
}

function stdinRedirect(node: Node): boolean {
  return node.type === 'heredoc_redirect' || node.type === 'herestring_redirect' ||
    (node.type === 'file_redirect' && node.children.some((c) => c.type === '<' || c.type === '<&'));
}

/** Leaf text inside arithmetic (`(( ))`, `$(( ))`, `[[ ]]`, `let`) that would be evaluated as code via array subscripts. */
function arithmeticHidesCode(node: Node): boolean {
  const hidesCode = (n: Node): boolean => ['raw_string', 'string_content', 'word'].includes(n.type) && /\$\(|`/.test(n.text);
  // Nested arithmetic is checked when the walk reaches it; substitutions are separate commands.
  return someDescendant(node, hidesCode, (n) => isSubstitution(n) || isArithmetic(n));
}

function isArithmetic(node: Node): boolean {
  return node.type === 'arithmetic_expansion' || node.type === 'test_command' || node.type === 'c_style_for_statement' ||
    (node.type === 'compound_statement' && node.firstChild?.type === '((');
}

function addPart(w: Walk, node: Node, text: string): void {
  const denyForms = node.text === text ? [] : [node.text];
  w.acc.parts.push({ text, denyForms });
}

/** `export X=1`, `local a`, `unset X`: a part of their own; dangerous assignments are unsafe. */
function declarationText(node: Node): string {
  return node.children
    .filter((c) => c.type !== 'comment')
    .map((c) => (c.type === 'variable_assignment' ? assignmentText(c) : c.isNamed ? wordText(toWord(c)) : c.text))
    .join(' ');
}

function checkAssignment(node: Node, acc: Accumulator): void {
  const name = assignmentName(node);
  if (isDangerousVariable(name)) flag(acc, `Assigning ${name} changes what later commands run or load.`);
}

/** `declare "PATH=/x"`: an assignment written as a quoted word is not a `variable_assignment` node. */
function checkQuotedDeclaration(node: Node, acc: Accumulator): void {
  const keyword = node.firstChild?.text ?? '';
  const words = node.namedChildren.filter((c) => c.type !== 'variable_assignment' && c.type !== 'comment').map(toWord);
  const reason = assigningBuiltinReason(keyword, words);
  if (reason !== null) flag(acc, reason);
}

function walkChildren(node: Node, fed: boolean, w: Walk, depth: number): void {
  for (const child of node.children) walkNode(child, fed, w, depth + 1);
}

function walkCommand(node: Node, fed: boolean, w: Walk, depth: number): void {
  if (node.childForFieldName('name') === null) {
    // Only assignments (and redirections): nothing runs but the assignments.
    for (const a of node.namedChildren) if (a.type === 'variable_assignment') checkAssignment(a, w.acc);
  } else {
    const found = analyzeSimpleCommand(node, fed);
    w.acc.parts.push(found.part);
    for (const r of found.unsafe) flag(w.acc, r);
    for (const payload of found.payloads) analyzeInto(payload, w.acc, w.shellDepth + 1);
  }
  walkChildren(node, false, w, depth);
}

/**
 * Backticks inside backticks are written `\``: bash removes those backslashes
 * and parses the body again, which tree-sitter does not. Such bodies are
 * analysed as a nested command line instead of from the tree.
 */
function walkBackticks(node: Node, w: Walk): void {
  const quoted = node.parent?.type === 'string';
  const body = node.text.slice(1, -1).replace(quoted ? /\\([\\`$"])/g : /\\([\\`$])/g, '$1');
  analyzeInto(body, w.acc, w.shellDepth + 1);
}

function walkNode(node: Node, fed: boolean, w: Walk, depth: number): void {
  if (depth > MAX_AST_DEPTH) return flag(w.acc, 'The command is nested too deeply to analyse.');
  if (node.isError) flag(w.acc, 'The command does not parse as shell syntax.');
  if (node.isMissing) flag(w.acc, 'The command is incomplete (a closing token is missing).');
  if (isArithmetic(node) && arithmeticHidesCode(node)) flag(w.acc, 'Arithmetic evaluation could run quoted code.');
  switch (node.type) {
    case 'comment':
      return;
    case 'command':
      return walkCommand(node, fed, w, depth);
    case 'variable_assignment':
      checkAssignment(node, w.acc);
      return walkChildren(node, false, w, depth);
    case 'declaration_command':
    case 'unset_command':
      for (const a of node.namedChildren) if (a.type === 'variable_assignment') checkAssignment(a, w.acc);
      checkQuotedDeclaration(node, w.acc);
      addPart(w, node, declarationText(node));
      return walkChildren(node, false, w, depth);
    case 'test_command':
      addPart(w, node, node.text);
      return walkChildren(node, false, w, depth);
    case 'pipeline':
      // Every command after the first reads the previous one's output.
      node.namedChildren.forEach((c, i) => walkNode(c, fed || i > 0, w, depth + 1));
      return;
    case 'redirected_statement': {
      const redirects = node.childrenForFieldName('redirect');
      const bodyFed = fed || redirects.some(stdinRedirect) || node.namedChildren.some(stdinRedirect);
      for (const child of node.namedChildren) walkNode(child, child.type.endsWith('redirect') ? fed : bodyFed, w, depth + 1);
      return;
    }
    case 'heredoc_redirect':
      // A `| cmd` written after the heredoc start reads what the redirected command prints.
      for (const child of node.namedChildren) walkNode(child, child.type === 'pipeline' || fed, w, depth + 1);
      return;
    case 'file_redirect':
      recordRedirect(node, w.acc);
      return walkChildren(node, false, w, depth);
    case 'command_substitution':
      if (node.firstChild?.type === '`' && node.text.includes('\\')) return walkBackticks(node, w);
      return walkChildren(node, false, w, depth);
    case 'process_substitution':
      return walkChildren(node, false, w, depth);
    default:
      return walkChildren(node, fed, w, depth);
  }
}

/** Analyses `source` at `bash -c` nesting level `shellDepth`, adding what it finds to `acc`. */
function analyzeInto(source: string, acc: Accumulator, shellDepth: number): void {
  if (shellDepth > MAX_SHELL_NESTING) {
    return flag(acc, `Shell commands are nested more than ${MAX_SHELL_NESTING} levels deep.`);
  }
  const checked = checkSource(source);
  for (const r of checked.reasons) flag(acc, r);
  if (!checked.parse) return;
  withShellTree(source, (tree) => {
    // Checked before walking so that deep input costs one linear pass, not one per level.
    if (deeperThan(tree.rootNode, MAX_AST_DEPTH)) return flag(acc, 'The command is nested too deeply to analyse.');
    if (hasHiddenJoin(tree.rootNode, source)) flag(acc, 'A backslash-newline joins a word that the parser splits.');
    walkNode(tree.rootNode, false, { acc, shellDepth }, 0);
  });
}

/** Analyses a command line; `loadShellParser()` must have completed (throws `CORDON_SHELL_PARSER` otherwise). */
export function analyzeCommandSync(source: string): CommandAnalysis {
  const acc: Accumulator = { parts: [], unsafe: [], writes: [] };
  analyzeInto(source, acc, 0);
  return { source, parts: acc.parts, unsafe: acc.unsafe, writes: acc.writes };
}

/** Loads the shell parser if needed, then analyses a command line. */
export async function analyzeCommand(source: string): Promise<CommandAnalysis> {
  await loadShellParser();
  return analyzeCommandSync(source);
}
