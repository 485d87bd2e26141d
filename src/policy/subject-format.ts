/** Prints a subject in rule syntax, e.g. `Net(example.com:443)`. */
import { formatHost } from '../egress/hostname.js';
import type { Subject } from './types.js';

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
      return `Http(${s.method} ${formatHost(s.host)}${s.port === null ? '' : `:${s.port}`}${s.path})`;
    case 'WebFetch':
      return `WebFetch(${s.url})`;
    case 'Mcp':
      return `mcp__${s.server}__${s.tool}${s.args === undefined ? '' : ` ${JSON.stringify(s.args)}`}`;
  }
}
