/**
 * Prints a subject in rule syntax, e.g. `Net(example.com:443)`. Query strings
 * and fragments are never printed (rules do not match them, and they are
 * where secrets travel): `?…(N chars)` stands for them, so audit records,
 * prompts and 403 bodies never carry a secret sent in a URL.
 */
import { formatHost } from '../egress/hostname.js';
import type { Subject } from './types.js';

export function withoutQuery(pathOrUrl: string): string {
  const q = pathOrUrl.search(/[?#]/);
  return q === -1 ? pathOrUrl : `${pathOrUrl.slice(0, q)}?…(${pathOrUrl.length - q - 1} chars)`;
}

export function formatSubject(s: Subject): string {
  switch (s.kind) {
    case 'Read':
    case 'Edit':
      return `${s.kind}(${s.path})`;
    case 'Bash':
      return `Bash(${s.command})`;
    case 'Net':
      return `Net(${formatHost(s.host)}${s.port === null ? '' : `:${s.port}`})`;
    case 'Http':
      return `Http(${s.method} ${formatHost(s.host)}${s.port === null ? '' : `:${s.port}`}${withoutQuery(s.path)})`;
    case 'WebFetch':
      return `WebFetch(${withoutQuery(s.url)})`;
    case 'Mcp':
      return `mcp__${s.server}__${s.tool}${s.args === undefined ? '' : ` ${JSON.stringify(s.args)}`}`;
  }
}
