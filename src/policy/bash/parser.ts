/**
 * Loads the tree-sitter bash grammar (WebAssembly only: the package's native
 * binding is never built or used). Loading is lazy and happens once per
 * process; the parser holds no state between parses, so sharing it is safe.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Language, Parser } from 'web-tree-sitter';
import type { Tree } from 'web-tree-sitter';
import { CordonError } from '../../errors.js';

let loading: Promise<Parser> | undefined;
let loaded: Parser | undefined;

/**
 * Locates `tree-sitter-bash.wasm` at the grammar package's root. The package
 * has no `exports` map, so resolving its `package.json` is permitted.
 */
function grammarWasmPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('tree-sitter-bash/package.json');
  return path.join(path.dirname(pkg), 'tree-sitter-bash.wasm');
}

/**
 * The grammar is parsed with a handful of calls per process (a hook answers
 * one tool call and exits): V8's baseline wasm compiler is enough, and
 * skipping the optimising tier-up cuts a hook's start from ~2 s of CPU to
 * ~0.4 s here. Set once, before the first wasm module is compiled.
 */
let baselineOnly = false;
function useBaselineWasmCompiler(): void {
  if (baselineOnly) return;
  baselineOnly = true;
  setFlagsFromString('--liftoff-only');
}

async function createParser(): Promise<Parser> {
  try {
    useBaselineWasmCompiler();
    await Parser.init();
    const language = await Language.load(grammarWasmPath());
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  } catch (cause) {
    throw new CordonError(
      'CORDON_SHELL_PARSER',
      'Could not load the tree-sitter bash grammar; reinstall the `web-tree-sitter` and `tree-sitter-bash` packages.',
      { cause },
    );
  }
}

/** Loads the shell parser once; later calls return the same promise. A failed load can be retried. */
export async function loadShellParser(): Promise<void> {
  if (loaded !== undefined) return;
  loading ??= createParser();
  try {
    loaded = await loading;
  } catch (e) {
    loading = undefined;
    throw e;
  }
}

/** True once `loadShellParser()` has completed. */
export function isShellParserLoaded(): boolean {
  return loaded !== undefined;
}

/** The loaded parser; throws `CORDON_SHELL_PARSER` when `loadShellParser()` has not completed. */
export function shellParser(): Parser {
  if (loaded === undefined) {
    throw new CordonError(
      'CORDON_SHELL_PARSER',
      'The shell parser is not loaded; await loadShellParser() before analysing commands synchronously.',
    );
  }
  return loaded;
}

/** Parses `source` and hands the tree to `use`, always freeing the tree's WebAssembly memory afterwards. */
export function withShellTree<T>(source: string, use: (tree: Tree) => T): T {
  const tree = shellParser().parse(source);
  if (tree === null) {
    throw new CordonError('CORDON_SHELL_PARSER', 'The shell parser returned no tree; report this as a bug.');
  }
  try {
    return use(tree);
  } finally {
    tree.delete();
  }
}
