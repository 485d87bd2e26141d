/**
 * Environment dumps in tool arguments: a text with several `NAME=value`
 * lines (the output of `env`, `printenv`, `set`, a `.env` file) where a
 * credential-named variable (`*_PASSWORD`, `*_SECRET*`, `*_TOKEN`,
 * `*_API_KEY`, `*_ACCESS_KEY`, `*_PRIVATE_KEY`, `*CREDENTIAL*`...) has a
 * literal value. The DLP engine's assignment detectors ask the value to look
 * random (`password = getPassword()` in code is not a leak); in a dump the
 * value is the variable's content whatever it looks like, so a dump is
 * judged by its shape instead. Not flagged: references (`$X`, `${X}`,
 * `%X%`, `{{ x }}`), placeholders (`<...>`, `your-...`, `changeme`, `xxxx`,
 * `***`, `...`), stock values of local set-ups (`postgres`, `changeit`, a
 * part of the name itself), paths and file names (`*_FILE`, `*_PATH`, values starting
 * with `/`, `./`, `~`), short values (under 8 characters), names whose last
 * part says the value is not the secret (`_ID`, `_USER`, `_LENGTH`,
 * `_TTL`...), and single assignments inside a longer text (a dump has at least
 * two `NAME=` lines, or is one line and nothing else: `findEnvLine`).
 * The same holds for a dump as JSON (`JSON.stringify(process.env)`, an
 * `env` object in the arguments): an object with two upper-case
 * `NAME`-shaped keys or more (`findEnvObject`).
 */
import { redactSample } from '../audit/redact.js';

export interface EnvDumpFinding {
  /** The variable's name. */
  readonly name: string;
  /** Redacted: first and last 4 characters at most. */
  readonly sample: string;
}

/** Shortest text that can hold two assignment lines worth flagging. */
const MIN_TEXT = 24;
/** Texts longer than this are read only up to it (a dump is near the start of what carries it). */
const MAX_TEXT = 64 * 1024;
const MIN_VALUE = 8;
const ASSIGNMENT = /^[ \t]*(?:export[ \t]+|set[ \t]+|declare -x[ \t]+)?([A-Za-z_][A-Za-z0-9_]{0,127})=(.*)$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** Parts of a name that make it a credential's name, alone or as a pair. */
const SECRET_PARTS = new Set(['PASSWORD', 'PASSWD', 'PASS', 'PWD', 'PASSPHRASE', 'SECRET', 'SECRETS', 'TOKEN', 'CREDENTIAL', 'CREDENTIALS', 'APIKEY', 'PRIVATEKEY', 'DSN']);
const KEY_PAIRS = new Set(['API', 'ACCESS', 'PRIVATE', 'AUTH', 'SIGNING', 'ENCRYPTION', 'MASTER', 'SECRET', 'SESSION', 'ACCOUNT', 'LICENSE', 'WEBHOOK', 'CLIENT']);
/** A name ending in one of these names something about the secret, not the secret. */
const NOT_SECRET_LAST = new Set(['FILE', 'PATH', 'DIR', 'ID', 'IDS', 'NAME', 'USER', 'USERNAME', 'HOST', 'PORT', 'TTL', 'EXPIRY', 'EXPIRES', 'LENGTH', 'LEN', 'MIN', 'MAX', 'TYPE', 'ENABLED', 'DISABLED', 'HEADER', 'REGION', 'URL', 'URI', 'ENDPOINT', 'VERSION', 'MODE', 'COUNT', 'LIMIT', 'TIMEOUT', 'PREFIX', 'ALGORITHM', 'ALG', 'FORMAT', 'SIZE', 'ROTATION']);
/** Stock values of local set-ups (a compose file's `POSTGRES_PASSWORD=postgres`), not anyone's secret. */
const STOCK = new Set(['postgres', 'password', 'passw0rd', 'password1', 'password123', 'changeit', 'development', 'localhost', 'testing', 'default', 'example', 'mysecret', 'secret123', 'admin123', 'rootpass', 'testpass', 'testtoken']);
const REFERENCE = /\$[A-Za-z_{(]|%[A-Za-z_][A-Za-z0-9_]*%|\{\{/;
const PLACEHOLDER = /^<.*>$|^\[.*\]$|^(?:x+|\*+|\.+|-+|#+|0+)$|your[-_ ]|changeme|change[-_]me|placeholder|replace[-_]?me|redacted|not[-_]?a[-_]?real|fake|dummy|lorem|\.\.\.|^(?:none|null|nil|true|false|undefined|empty|todo|tbd|secret|password|token)$/i;

export function isCredentialName(name: string): boolean {
  const parts = name.toUpperCase().split('_').filter((p) => p !== '');
  const last = parts.at(-1);
  if (last === undefined || NOT_SECRET_LAST.has(last)) return false;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    if (SECRET_PARTS.has(p)) return true;
    if (p === 'KEY' && i > 0 && KEY_PAIRS.has(parts[i - 1] ?? '')) return true;
  }
  return false;
}

/** A credential-named variable's value as a literal worth flagging (unquoted), or null: a reference, a placeholder, a stock value, a path, a short value, one with whitespace. */
export function literalValue(raw: string, name: string): string | null {
  let v = raw.trim();
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0]) v = v.slice(1, -1);
  if (v.length < MIN_VALUE || /\s/.test(v)) return null;
  if (REFERENCE.test(v) || PLACEHOLDER.test(v)) return null;
  if (v[0] === '/' || v.startsWith('./') || v.startsWith('~')) return null;
  const lower = v.toLowerCase();
  if (STOCK.has(lower) || name.toLowerCase().split('_').includes(lower)) return null;
  return v;
}

/** Most JSON text parsed to look for an environment object in it. */
const MAX_JSON = 64 * 1024;
const MAX_DEPTH = 16;

/** The credential-named keys with literal values of every object (at any depth, bounded) with two `NAME`-shaped keys or more. */
export function findEnvObject(value: unknown, out: EnvDumpFinding[] = [], depth = 0): EnvDumpFinding[] {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return out;
  if (Array.isArray(value)) {
    for (const v of value) findEnvObject(v, out, depth + 1);
    return out;
  }
  let names = 0;
  const found: EnvDumpFinding[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'object') {
      findEnvObject(v, out, depth + 1);
      continue;
    }
    if (!ENV_NAME.test(k)) continue;
    names++;
    if (typeof v !== 'string' || !isCredentialName(k)) continue;
    const literal = literalValue(v, k);
    if (literal !== null) found.push({ name: k, sample: `${k}=${redactSample(literal)}` });
  }
  if (names >= 2) out.push(...found);
  return out;
}

/** An environment object in a text that is JSON (`{...}`, up to 64 KiB); empty for any other text. */
export function findEnvJson(text: string): EnvDumpFinding[] {
  if (text.length < MIN_TEXT || text.length > MAX_JSON) return [];
  const t = text.trimStart();
  if (t[0] !== '{' && t[0] !== '[') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    return [];
  }
  return findEnvObject(parsed);
}

/** A lone assignment is read only when it is the whole text (up to this long) and its value is at least this long. */
const MAX_LONE = 4096;
const MIN_LONE_VALUE = 12;

/**
 * A text that is one `NAME=value` line and nothing else (`env | grep SECRET`, one line of a `.env` sent alone,
 * `export API_TOKEN=...` as a command) whose credential-named variable holds a literal of 12 characters or more.
 * Inside a longer text (a README, a script) one assignment is as often an example or an expression, and is left to
 * the assignment detectors (random values only).
 */
export function findEnvLine(text: string): EnvDumpFinding[] {
  if (text.length > MAX_LONE || !text.includes('=')) return [];
  const line = text.trim();
  if (line.includes('\n')) return [];
  const m = ASSIGNMENT.exec(line);
  const name = m?.[1] ?? '';
  if (m === null || !ENV_NAME.test(name) || !isCredentialName(name)) return [];
  const v = literalValue(m[2] ?? '', name);
  return v === null || v.length < MIN_LONE_VALUE ? [] : [{ name, sample: `${name}=${redactSample(v)}` }];
}

/** The credential-named variables a text dumps with literal values: two `NAME=value` lines or more, or one that is the whole text (`findEnvLine`). */
export function findEnvDump(text: string): EnvDumpFinding[] {
  if (!text.includes('=')) return [];
  if (!text.trim().includes('\n')) return findEnvLine(text);
  if (text.length < MIN_TEXT) return [];
  const lines = (text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text).split(/\r?\n/);
  let assignments = 0;
  const found: EnvDumpFinding[] = [];
  for (const line of lines) {
    const m = ASSIGNMENT.exec(line);
    if (m === null) continue;
    const name = m[1] ?? '';
    if (!ENV_NAME.test(name)) continue;
    assignments++;
    if (!isCredentialName(name)) continue;
    const v = literalValue(m[2] ?? '', name);
    if (v !== null) found.push({ name, sample: `${name}=${redactSample(v)}` });
  }
  return assignments >= 2 ? found : [];
}
