/**
 * One simple command node -> its `CommandPart`, the reasons it cannot be
 * accounted for, and any static `bash -c` payloads still to analyse.
 */
import type { Node } from 'web-tree-sitter';
import type { CommandPart } from '../types.js';
import { isShell, shellInvocation } from './shell-invocation.js';
import { commandNameProblem, toWord, wordText } from './words.js';
import type { Word } from './words.js';
import { basename, isDangerousVariable, isHarmlessVariable, stripAllWrappers, stripSchedulingWrappers, usesEnvSplitString } from './wrappers.js';

export interface CommandFindings {
  readonly part: CommandPart;
  readonly unsafe: readonly string[];
  /** Static `-c` strings of shells started by this command, to analyse as commands in turn. */
  readonly payloads: readonly string[];
}

/** Builtins that run text or change how later text is read. */
const EVALUATING: ReadonlyMap<string, string> = new Map([
  ['eval', '`eval` runs a string as a command.'],
  ['source', '`source` runs a script file.'],
  ['.', '`.` runs a script file.'],
  ['alias', '`alias` changes what later command names mean.'],
  ['trap', '`trap` runs a string as a command later.'],
  ['enable', '`enable` loads or switches shell builtins.'],
]);

/** The variable name of an assignment node (`NAME=...`, `NAME+=...`). */
export function assignmentName(node: Node): string {
  const name = node.childForFieldName('name');
  // `NAME[index]=...` assigns to NAME.
  return (name?.type === 'subscript' ? name.childForFieldName('name') : name)?.text ?? '';
}

/** `NAME=value` with the value unquoted when static, as written otherwise. */
export function assignmentText(node: Node): string {
  const value = node.childForFieldName('value');
  const op = node.children.find((c) => !c.isNamed)?.text ?? '=';
  return `${assignmentName(node)}${op}${value === null ? '' : wordText(toWord(value))}`;
}

function joinWords(words: readonly Word[]): string {
  return words.map(wordText).join(' ');
}

/** Whether the command's own redirections feed its stdin (`<<<`, `< file`). */
function ownStdinRedirect(node: Node): boolean {
  return node.childrenForFieldName('redirect').some(
    (r) => r.type === 'herestring_redirect' || r.children.some((c) => c.type === '<' || c.type === '<&'),
  );
}

/** `xargs -I{}` (or `-i`, `--replace`) rewrites the words that follow it with text from its input. */
function xargsReplaces(wrappers: readonly Word[]): boolean {
  const at = wrappers.findIndex((w) => w.value !== null && basename(w.value) === 'xargs');
  return at >= 0 && wrappers.slice(at + 1).some((w) => /^(-[Ii]|--replace)/.test(w.value ?? ''));
}

function shellReasons(name: string, args: readonly Word[], stdinFed: boolean, payloads: string[]): string[] {
  const invocation = shellInvocation(args);
  switch (invocation.kind) {
    case 'command':
      // Without an operand the string comes from somewhere else (`xargs sh -c` appends its input).
      if (invocation.payload?.value == null) return [`\`${name} -c\` runs a string that is not static.`];
      payloads.push(invocation.payload.value);
      return [];
    case 'stdin':
      return stdinFed ? [`\`${name}\` reads a script from stdin (pipe, heredoc or herestring).`] : [];
    case 'script':
      return invocation.script.node.type === 'process_substitution'
        ? [`\`${name}\` runs a script produced by another command.`]
        : [];
  }
}

/** Builtins that assign to variables named in their arguments (`read PATH`, `printf -v PATH`, `hash -p`). */
export function assigningBuiltinReason(name: string, args: readonly Word[]): string | null {
  let values = args.map((w) => w.value ?? '');
  if (name === 'hash' && values.some((v) => v.startsWith('-p'))) return '`hash -p` changes which program a command name runs.';
  if (name === 'printf') {
    // Only `-v NAME` / `-vNAME` assigns; the other arguments are data.
    const at = values.findIndex((v) => v.startsWith('-v'));
    values = at < 0 ? [] : [values[at] === '-v' ? values[at + 1] ?? '' : (values[at] ?? '').slice(2)];
  } else if (!['read', 'mapfile', 'readarray', 'declare', 'typeset', 'export', 'local', 'readonly'].includes(name)) {
    return null;
  }
  const target = values.map((v) => v.split('=')[0] ?? '').find(isDangerousVariable);
  return target === undefined ? null : `\`${name}\` assigns ${target}, which changes what later commands run or load.`;
}

/** Reasons found on the command once every wrapper is stripped (`sudo eval`, `env bash -c "$X"`...). */
function innerReasons(inner: readonly Word[], all: readonly Word[], stdinFed: boolean, payloads: string[]): string[] {
  const first = inner[0];
  if (first === undefined) return [];
  const reasons: string[] = [];
  if (inner.length !== all.length) {
    const problem = commandNameProblem(first.node);
    if (problem !== null) reasons.push(problem);
  }
  if (all[0]?.value === 'exec' && all.slice(1).some((w) => w.value === null)) {
    reasons.push('`exec` has an argument that is not static.');
  }
  if (usesEnvSplitString(all)) reasons.push('`env -S` splits a string into a command.');
  if (first.value === null) return reasons;
  const name = basename(first.value);
  const evaluating = EVALUATING.get(name);
  if (evaluating !== undefined) reasons.push(evaluating);
  if (name === 'let' && inner.some((w) => /\$\(|`/.test(w.value ?? ''))) {
    reasons.push('`let` evaluates text that contains a command substitution.');
  }
  const assigning = assigningBuiltinReason(name, inner.slice(1));
  if (assigning !== null) reasons.push(assigning);
  if (isShell(name)) {
    reasons.push(...shellReasons(name, inner.slice(1), stdinFed, payloads));
    if (xargsReplaces(all.slice(0, all.length - inner.length))) reasons.push('`xargs` rewrites the shell command with its input.');
  }
  return reasons;
}

/** The extra spellings deny and ask rules also match, without duplicates or the canonical text. */
function denyForms(raw: string, inner: readonly Word[], text: string): string[] {
  const stripped = joinWords(inner);
  const first = inner[0]?.value;
  const forms = [raw, stripped];
  if (first !== null && first !== undefined && basename(first) !== first) {
    forms.push([basename(first), ...inner.slice(1).map(wordText)].join(' '));
  }
  return [...new Set(forms)].filter((f) => f !== text && f !== '');
}

/**
 * Analyses a `command` node that has a name. `stdinFed` is true when a pipe,
 * heredoc or redirection around the command supplies its stdin.
 */
export function analyzeSimpleCommand(node: Node, stdinFed: boolean): CommandFindings {
  const nameNode = node.childForFieldName('name');
  const words = [nameNode, ...node.childrenForFieldName('argument')].filter((n) => n !== null).map(toWord);
  const kept = node.namedChildren
    .filter((c) => c.type === 'variable_assignment' && !isHarmlessVariable(assignmentName(c)))
    .map(assignmentText);
  const scheduled = stripSchedulingWrappers(words);
  const text = [...kept, joinWords(scheduled)].join(' ');
  const inner = stripAllWrappers(words);
  const unsafe: string[] = [];
  const payloads: string[] = [];
  const nameProblem = nameNode === null ? null : commandNameProblem(nameNode);
  if (nameProblem !== null) unsafe.push(nameProblem);
  unsafe.push(...innerReasons(inner, words, stdinFed || ownStdinRedirect(node), payloads));
  return { part: { text, denyForms: denyForms(node.text, inner, text) }, unsafe, payloads };
}
