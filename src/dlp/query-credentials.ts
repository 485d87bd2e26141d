/**
 * A credential-named query parameter with a literal value (`?password=hunter2hunter2`,
 * `?api_key=...`, `?client_secret=...`, `?token=...`): reported whatever the
 * value looks like. The assignment detectors ask a value to look random,
 * because `password = getPassword()` in code is not a leak; a URL's query
 * value is data, never code, so a credential's name decides. The rules are
 * data (`QUERY_RULES`) and each finding says which one held (`explain`).
 *
 * Not flagged: the parameters of OAuth and OIDC flows that are not
 * credentials (`code`, `state`, `nonce`, `client_id`, `redirect_uri`,
 * `token_type_hint`, `id_token_hint`: their names are not credential names
 * or end in a part that says so); tokens that are cursors or one-time links
 * (`pageToken`, `next_token`, `csrf_token`, `reset_password_token`,
 * `invitation_token`...); the signing parameters of pre-signed URLs
 * (`X-Amz-Security-Token`, `X-Goog-Credential`, SAS `sig`: made to be
 * shared); and every value `literalValue` (`env-dump.ts`) passes: references,
 * placeholders, stock development values, paths, values under 8 characters,
 * and here also URLs and one-word flags (`on`, `required`); a token or key
 * (not a password or secret) needs 16 characters (README badge tokens are 10).
 */
import { redactSample } from '../audit/redact.js';
import { isCredentialName, literalValue } from './env-dump.js';

export interface QueryCredential {
  readonly name: string;
  readonly sample: string;
  readonly explain: string;
}

/** The rules as data: which name parts make a parameter a credential, and which parts take it back out. */
export const QUERY_RULES = {
  /** A name with one of these parts is a token that is not a credential: a cursor, a one-time link, an anti-forgery value. */
  notCredentialParts: ['PAGE', 'NEXT', 'PREV', 'PREVIOUS', 'CONTINUATION', 'CURSOR', 'SYNC', 'CSRF', 'XSRF', 'AUTHENTICITY', 'CSRFMIDDLEWARETOKEN', 'RESET', 'CONFIRMATION', 'CONFIRM', 'INVITATION', 'INVITE', 'UNLOCK', 'VERIFY', 'VERIFICATION', 'CAPTCHA', 'RECAPTCHA', 'DEVICE', 'PUSH', 'REGISTRATION', 'HINT', 'STATE', 'NONCE', 'CHALLENGE', 'VERIFIER', 'AMZ', 'GOOG', 'SAS'],
  /** Bare names the env-dump rules do not cover (`KEY` needs a pair there: `api_key`). */
  extraNames: ['APIKEY', 'APIKEYS'],
  /** Parts of a password's name: a literal of 8 characters or more is enough (people's passwords are short). */
  passwordParts: ['PASSWORD', 'PASSWD', 'PASS', 'PWD', 'PASSPHRASE', 'SECRET', 'SECRETS'],
  /** Other credential names (tokens, keys) need 16 characters: issued tokens are long; a 10-character public badge token (Codecov's `?token=` in READMEs) is not what is guarded. */
  tokenMinLength: 16,
} as const;

const NOT_CREDENTIAL = new Set<string>(QUERY_RULES.notCredentialParts);

/** A parameter name as upper-case parts: `pageToken` -> PAGE_TOKEN, `api-key` -> API_KEY, `user[password]` -> USER_PASSWORD. */
export function queryNameParts(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase().split(/[^A-Z0-9]+/).filter((p) => p !== '');
}

/** A name with a part that says its token is not a credential (`pageToken`, `csrf_token`, `X-Amz-Security-Token`). */
export function isNotCredentialToken(name: string): boolean {
  return name.length <= 64 && queryNameParts(name).some((p) => NOT_CREDENTIAL.has(p));
}

export function isQueryCredentialName(name: string): boolean {
  if (name.length > 64) return false;
  const parts = queryNameParts(name);
  if (parts.some((p) => NOT_CREDENTIAL.has(p))) return false;
  const joined = parts.join('_');
  return isCredentialName(joined) || (parts.length === 1 && (QUERY_RULES.extraNames as readonly string[]).includes(joined));
}

/** The credential-named parameters of a query with literal values. */
export function queryCredentials(params: Iterable<readonly [string, string]>): QueryCredential[] {
  const out: QueryCredential[] = [];
  let n = 0;
  for (const [name, raw] of params) {
    if (++n > 256) break;
    if (!isQueryCredentialName(name)) continue;
    const parts = queryNameParts(name).join('_');
    const v = literalValue(raw, parts);
    const isPassword = queryNameParts(name).some((p) => (QUERY_RULES.passwordParts as readonly string[]).includes(p));
    if (v === null || (!isPassword && v.length < QUERY_RULES.tokenMinLength) || v.includes('://') || /^(?:on|off|yes|no|required|optional|none|bearer|basic)$/i.test(v)) continue;
    out.push({ name, sample: redactSample(v), explain: `The query parameter '${name}' is named as a credential and carries a literal value: a URL's query is data (logged by every hop), so the name decides, not how random the value looks.` });
  }
  return out;
}
