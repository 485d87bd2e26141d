/**
 * `Bash(...)` rule specifiers, with Claude Code's documented semantics:
 *
 * - no `*`: the whole command text must be equal;
 * - `*` matches any text, spaces included (`git * main`);
 * - a trailing ` *` (or the legacy trailing `:*`) also matches the bare prefix
 *   but only at a word boundary (`ls *` matches `ls`, `ls -la`, not `lsof`);
 * - `\*` is a literal star, `\\` a literal backslash.
 *
 * Each pattern compiles once to an anchored RegExp. Every star but the last
 * is matched through a lookahead plus back-reference, the usual emulation of
 * an atomic group, so the engine never backtracks into an earlier star and a
 * match costs O(text x pattern) at worst, whatever the number of stars.
 */
import { CordonError } from '../../errors.js';

export interface BashPattern {
  /** The specifier as written inside `Bash(...)`. */
  readonly specifier: string;
  /** The compiled, anchored expression (exposed for tests and debugging). */
  readonly regex: RegExp;
  /** Whether a command text (a `CommandPart.text` or deny form) matches. */
  matches(text: string): boolean;
  /** One phrase describing what the pattern covers, e.g. "commands that start with the word `ls`". */
  explain(): string;
}

type Token = { readonly star: true } | { readonly star: false; readonly ch: string };

const STAR: Token = { star: true };

/** Splits a specifier into literal characters and stars; `\*` and `\\` are literals. */
function tokenize(spec: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < spec.length; i++) {
    const c = spec.charAt(i);
    const next = spec.charAt(i + 1);
    if (c === '\\' && (next === '*' || next === '\\')) {
      tokens.push({ star: false, ch: next });
      i++;
    } else if (c === '*') {
      // Consecutive stars mean the same as one.
      if (tokens.at(-1)?.star !== true) tokens.push(STAR);
    } else {
      tokens.push({ star: false, ch: c });
    }
  }
  return tokens;
}

/** Literal runs between stars: `a*b*c` -> [`a`, `b`, `c`]. */
function segments(tokens: readonly Token[]): string[] {
  const out = [''];
  for (const t of tokens) {
    if (t.star) out.push('');
    else out[out.length - 1] += t.ch;
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/**
 * Builds the expression for literal segments separated by stars. With
 * `wordTail`, the text may go on after the last segment only after a space.
 */
function compile(parts: readonly string[], wordTail: boolean): RegExp {
  const [first = '', ...rest] = parts.map(escapeRegExp);
  let source = `^${first}`;
  rest.forEach((seg, i) => {
    const last = i === rest.length - 1;
    if (last && !wordTail) {
      source += `[\\s\\S]*${seg}`;
    } else {
      // Leftmost occurrence, taken atomically: (?=([\s\S]*?seg))\N
      const boundary = last ? '(?= |$)' : '';
      source += `(?=([\\s\\S]*?${seg}${boundary}))\\${i + 1}`;
    }
  });
  source += wordTail ? '(?: [\\s\\S]*)?$' : '$';
  return new RegExp(source, 'u');
}

/** Whether the token list ends with an unescaped star right after a space or a colon. */
function hasWordTail(tokens: readonly Token[]): boolean {
  const before = tokens.at(-2);
  return tokens.at(-1)?.star === true && before !== undefined && !before.star && (before.ch === ' ' || before.ch === ':');
}

function describe(spec: string, tokens: readonly Token[], wordTail: boolean): string {
  if (wordTail) {
    const prefix = spec.replace(/\*+$/, '').slice(0, -1);
    return tokens.slice(0, -2).some((t) => t.star)
      ? `commands matching \`${prefix}\` (\`*\` stands for any text), alone or followed by more words`
      : `commands that start with the word \`${prefix}\``;
  }
  if (tokens.some((t) => t.star)) return `commands matching \`${spec}\`, where \`*\` stands for any text`;
  return `the command \`${spec}\` exactly`;
}

/** Compiles a `Bash(...)` specifier; throws `CORDON_RULE_INVALID` for an empty one. */
export function compileBashPattern(specifier: string): BashPattern {
  if (specifier.trim() === '') {
    throw new CordonError(
      'CORDON_RULE_INVALID',
      'A Bash rule has an empty command pattern: write `Bash` for every command, or a command such as `Bash(npm test)` or `Bash(npm run test:*)`.',
    );
  }
  const tokens = tokenize(specifier);
  const wordTail = hasWordTail(tokens);
  const regex = compile(segments(wordTail ? tokens.slice(0, -2) : tokens), wordTail);
  const sentence = describe(specifier, tokens, wordTail);
  return {
    specifier,
    regex,
    matches: (text: string): boolean => regex.test(text),
    explain: (): string => sentence,
  };
}
