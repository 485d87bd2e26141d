/**
 * Detectors anchored on context: key-like names, PEM armour, URL userinfo,
 * authorization schemes. Data only; `checks.ts` holds the named validators.
 */
import type { DetectorSpec } from '../types.js';

/** The spellings of a key-like name that the prefilter looks for (snake, SCREAMING, camel, Pascal, kebab). */
export function spellings(words: readonly string[]): string[] {
  const lower = words.map((w) => w.toLowerCase());
  const cap = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);
  const out = new Set<string>([
    lower.join('_'), lower.join('_').toUpperCase(), lower.join(''), lower.join('').toUpperCase(),
    lower.join('-'), lower.map(cap).join('-'), lower[0] + lower.slice(1).map(cap).join(''), lower.map(cap).join(''),
  ]);
  return [...out];
}

/** `name ... = value` with the value captured; the name part may continue after the keyword (`_KEY`, `Secret`). */
const ASSIGN = '[A-Za-z0-9_.-]{0,32}["\']?\\s{0,4}(?::=|=>|[:=])\\s{0,4}["\'`]?';
/** Printable characters ASSIGN cannot have before its operator (its name part is `A-Za-z0-9_.-`, then a quote, then spaces). */
const NOT_NAME = '!#$%&()*+,/;<>?@[\\]^`{|}~';
/** Where ASSIGN's operator can be: after at most 32 name characters, a quote and 4 spaces (37 characters). */
const ASSIGN_OPERATOR = { anyOf: ':=', within: 38, stop: NOT_NAME };

function named(id: string, provider: string, words: readonly (readonly string[])[], value: string, format: string, extra: Partial<DetectorSpec> = {}): DetectorSpec {
  return {
    id, provider, format, keywords: words.flatMap((w) => spellings(w)),
    pattern: `[A-Za-z]{1,32}${ASSIGN}(?<secret>${value})(?![A-Za-z0-9/+=_-])`,
    maxLength: 180, confidence: 'high', requires: { ...ASSIGN_OPERATOR, within: 32 + ASSIGN_OPERATOR.within }, ...extra,
  };
}

export const CONTEXT_DETECTORS: readonly DetectorSpec[] = [
  named('aws-secret-access-key', 'AWS', [['secret', 'access', 'key'], ['aws', 'secret'], ['aws', 'secret', 'key']], '[A-Za-z0-9/+]{40}', '40 base64 characters assigned to a secret-access-key name (or next to an access key id)', { validator: 'random-value' }),
  named('aws-account-id', 'AWS', [['aws', 'account', 'id']], '\\d{4}-?\\d{4}-?\\d{4}', '12-digit account id assigned to AWS_ACCOUNT_ID (an identifier, not a secret: opt-in)', { optIn: true, confidence: 'low' }),
  named('azure-tenant-or-client-id', 'Azure', [['ad', 'tenant', 'id'], ['azure', 'tenant', 'id'], ['azure', 'client', 'id']], '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', 'a GUID assigned to an Azure tenant or client id name (an identifier: low confidence)', { confidence: 'low' }),
  named('mistral-api-key', 'Mistral', [['mistral', 'api', 'key'], ['mistral', 'key']], '[A-Za-z0-9]{32}', '32 alphanumerics assigned to a MISTRAL_API_KEY name', { validator: 'random-value' }),
  named('cohere-api-key', 'Cohere', [['cohere', 'api', 'key'], ['co', 'api', 'key'], ['cohere', 'key']], '[A-Za-z0-9]{40}', '40 alphanumerics assigned to a COHERE_API_KEY name', { validator: 'random-value' }),
  named('twilio-auth-token', 'Twilio', [['twilio', 'auth', 'token'], ['twilio', 'token']], '[0-9a-f]{32}', '32 hex characters assigned to a Twilio auth token name', { validator: 'random-hex' }),
  named('deepseek-api-key', 'DeepSeek', [['deepseek', 'api', 'key']], 'sk-[0-9a-f]{32}', 'sk- and 32 hex assigned to a DEEPSEEK_API_KEY name'),
  { id: 'npmrc-auth-token', provider: 'npm', format: '_authToken= in .npmrc followed by the token', keywords: ['_authToken='], pattern: '_authToken=["\']?(?<secret>[A-Za-z0-9_.+/=-]{16,200})', maxLength: 230, confidence: 'high' },
  { id: 'private-key', provider: 'PEM/OpenSSH', format: '-----BEGIN ... PRIVATE KEY----- armour (PKCS#1/#8, EC, OpenSSH, PGP, encrypted), also inside JSON with \\n escapes', keywords: ['-----BEGIN'], pattern: '-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----(?<secret>[\\s\\S]{0,16000}?)(?:-----END[ A-Z0-9]{0,40}PRIVATE KEY|$)', maxLength: 16100, validator: 'private-key-body', confidence: 'high' },
  { id: 'putty-private-key', provider: 'PuTTY', format: 'PuTTY-User-Key-File-2/3 with Private-Lines', keywords: ['PuTTY-User-Key-File-'], pattern: 'PuTTY-User-Key-File-\\d: [a-z0-9-]{3,40}\\r?\\n[\\s\\S]{0,6000}?Private-Lines: \\d{1,3}\\r?\\n(?<secret>[A-Za-z0-9+/=\\r\\n]{40,8000})', maxLength: 14100, confidence: 'high' },
  { id: 'gcp-service-account-key', provider: 'Google Cloud', format: 'service-account JSON ("type": "service_account") with a private_key', keywords: ['"service_account"'], pattern: '"service_account"[\\s\\S]{0,3000}?"private_key"\\s{0,4}:\\s{0,4}"(?<secret>-----BEGIN[^"]{100,8000})', back: 0, maxLength: 11200, confidence: 'high' },
  { id: 'secp256k1-private-key', provider: 'Ethereum/secp256k1', format: '0x followed by exactly 64 hex characters (a raw secp256k1 private key)', keywords: ['0x'], pattern: '0x(?<secret>[0-9a-fA-F]{64})(?![0-9a-fA-F])', maxLength: 70, letterBoundary: true, validator: 'random-hex', confidence: 'low' },
  { id: 'bearer-token', provider: 'OAuth', format: 'Authorization: Bearer <token> with a random-looking token of 20+ characters', keywords: ['Bearer ', 'bearer ', 'BEARER '], pattern: '[Bb][Ee][Aa][Rr][Ee][Rr] {1,4}(?<secret>[A-Za-z0-9._~+/-]{20,4096}={0,2})', maxLength: 4120, letterBoundary: true, validator: 'random-value', confidence: 'medium' },
  { id: 'basic-auth-credentials', provider: 'HTTP', format: 'Authorization: Basic <base64(user:password)> with a password that is not a placeholder or a documentation example', keywords: ['Basic '], pattern: '[Bb][Aa][Ss][Ii][Cc] {1,4}(?<secret>[A-Za-z0-9+/_-]{8,1024}={0,2})(?![A-Za-z0-9+/=_-])', maxLength: 1040, letterBoundary: true, validator: 'basic-credential', confidence: 'high' },
  { id: 'url-credentials', provider: 'URL', format: 'scheme://user:password@host (basic-auth URL or database URL with a password)', keywords: ['://'], pattern: '[A-Za-z][A-Za-z0-9+.:-]{1,24}://(?<user>[^\\s:@/?#"\'<>`]{0,128}):(?<secret>[^\\s/?#"\'<>`]{1,256})@(?<host>[^\\s/?#"\'<>`:@]{1,253})', back: 24, maxLength: 660, requires: { anyOf: '@', within: 660, stop: ' \t\n\r\v\f/?#"\'<>`' }, validator: 'url-userinfo', confidence: 'high' },
  { id: 'generic-secret', provider: 'generic', format: 'a random-looking value of 12+ characters assigned to a key-like name (password, secret, token, api key, access key)', keywords: [...spellings(['password']), ...spellings(['passwd']), ...spellings(['secret']), ...spellings(['token']), ...spellings(['api', 'key']), ...spellings(['access', 'key']), ...spellings(['auth', 'key'])], pattern: `${ASSIGN}(?<secret>(?:[^\\s"'\`,;<>(){}\\[\\]&]|&(?![A-Za-z0-9_.-]{1,64}=)){12,200})`, maxLength: 260, requires: ASSIGN_OPERATOR, validator: 'random-value', confidence: 'medium', weakConfidence: 'low' },
];
