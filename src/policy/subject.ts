/**
 * Parses subject strings as `policy explain` takes them
 * (`Bash(git push origin main)`, `Read(~/.ssh/id_rsa)`, `Net(evil.example:443)`,
 * `Http(POST github.com/o/r.git/git-receive-pack)`, `WebFetch(https://x.y/)`,
 * `mcp__github__create_issue` optionally followed by JSON arguments).
 */
import { CordonError } from '../errors.js';
import { canonicalizeHost, hostFromUrl } from '../egress/hostname.js';
import { analyzeCommand } from './bash/index.js';
import { resolveSubjectPath } from './match/path.js';
import { parseNetPattern } from './match/net.js';
import type { PathContext, Subject } from './types.js';

function invalid(text: string, what: string): CordonError {
  return new CordonError('CORDON_SUBJECT_INVALID', `'${text}': ${what}`);
}

function parseMcpSubject(text: string): Subject {
  const space = text.search(/[\s({]/);
  const name = space === -1 ? text : text.slice(0, space);
  let argsText = space === -1 ? '' : text.slice(space).trim();
  if (argsText.startsWith('(') && argsText.endsWith(')')) argsText = argsText.slice(1, -1);
  const m = /^mcp__([A-Za-z0-9_-]+?)__(.+)$/.exec(name);
  if (!m || m[1] === undefined || m[2] === undefined) throw invalid(text, 'write mcp__<server>__<tool>, optionally followed by JSON arguments');
  let args: unknown = undefined;
  if (argsText !== '') {
    try {
      args = JSON.parse(argsText) as unknown;
    } catch {
      throw invalid(text, 'the arguments after the tool name must be JSON, e.g. {"path": "/etc/passwd"}');
    }
  }
  return { kind: 'Mcp', server: m[1], tool: m[2], args };
}

export async function parseSubject(text: string, ctx: PathContext): Promise<Subject> {
  if (text.startsWith('mcp__')) return parseMcpSubject(text);
  const open = text.indexOf('(');
  if (open === -1 || !text.endsWith(')')) {
    throw invalid(text, 'write a subject as Kind(value): Bash(cmd), Read(path), Edit(path), Net(host:port), Http(METHOD host/path), WebFetch(url) or mcp__server__tool');
  }
  const kind = text.slice(0, open);
  const value = text.slice(open + 1, -1);
  switch (kind) {
    case 'Bash':
      return { kind: 'Bash', command: value, analysis: await analyzeCommand(value) };
    case 'Read':
    case 'Edit':
    case 'Write':
      if (value === '') throw invalid(text, 'give a path');
      return { kind: kind === 'Read' ? 'Read' : 'Edit', path: resolveSubjectPath(value, ctx) };
    case 'Net': {
      const p = parseNetPattern(value, text);
      if (p.host.type !== 'exact') throw invalid(text, 'a subject names one host, without wildcards');
      return { kind: 'Net', host: p.host.host, port: p.port };
    }
    case 'Http': {
      const m = /^([A-Za-z]+) (\S+)$/.exec(value);
      if (!m || m[1] === undefined || m[2] === undefined) throw invalid(text, 'write Http(METHOD host/path), e.g. Http(POST github.com/o/r.git/git-receive-pack)');
      const target = m[2].includes('://') ? m[2] : `https://${m[2]}`;
      const explicitPort = /^[a-z]+:\/\/(\[[^\]]*\]|[^/:]*):\d+/i.test(target);
      const u = hostFromUrl(target);
      const url = new URL(target);
      return { kind: 'Http', method: m[1].toUpperCase(), host: u.host, port: explicitPort || m[2].includes('://') ? u.port : null, path: url.pathname + url.search };
    }
    case 'WebFetch': {
      if (value.startsWith('domain:')) {
        const host = canonicalizeHost(value.slice('domain:'.length));
        return { kind: 'WebFetch', host, url: `https://${value.slice('domain:'.length)}/` };
      }
      const u = hostFromUrl(value.includes('://') ? value : `https://${value}`);
      return { kind: 'WebFetch', host: u.host, url: value };
    }
    default:
      throw invalid(text, `unknown subject kind '${kind}'; use Bash, Read, Edit, Net, Http, WebFetch or mcp__server__tool`);
  }
}
