/**
 * Compiles rule data into matchers. Compilation validates the specifier and
 * throws CordonError(CORDON_RULE_INVALID) with a message that says what to do;
 * evaluation afterwards is pure and cannot fail.
 */
import { CordonError } from '../../errors.js';
import { compileBashPattern } from '../bash/pattern.js';
import type { CanonicalHost, Matcher, PathContext, RuleSpec, Subject } from '../types.js';
import { describeHttpPattern, httpPathMatches, methodMatches, parseHttpPattern } from './http.js';
import { compileArgMatcher, globToRegex } from './mcp.js';
import { describeHostPattern, describeNetPattern, hostMatches, parseNetPattern, portMatches } from './net.js';
import { compilePathPattern, type PathPattern } from './path.js';

function effectWord(spec: RuleSpec): string {
  return spec.effect === 'deny' ? 'Denies' : spec.effect === 'ask' ? 'Asks before' : 'Allows';
}

export interface PathMatcher extends Matcher {
  /** The compiled pattern, or null for the whole tool (`Read`). */
  readonly pattern: PathPattern | null;
}

export interface BashMatcher extends Matcher {
  /** Whether the pattern matches one command text (used for part-by-part allow). */
  matchesText(text: string): boolean;
}

function make(spec: RuleSpec, covers: string, matches: (s: Subject) => boolean): Matcher {
  const sentence = `${effectWord(spec)} ${covers}.`;
  return { spec, matches, explain: () => sentence };
}

function compileBash(spec: RuleSpec): BashMatcher {
  const pattern = spec.specifier === null ? null : compileBashPattern(spec.specifier);
  const test = (text: string): boolean => pattern === null || pattern.matches(text);
  const covers = pattern === null ? 'every shell command' : `shell ${pattern.explain()}`;
  const sentence = `${effectWord(spec)} ${covers}.`;
  return {
    spec,
    explain: () => sentence,
    matchesText: test,
    matches(s) {
      if (s.kind !== 'Bash') return false;
      if (test(s.command.trim())) return true;
      return s.analysis.parts.some((p) => test(p.text) || p.denyForms.some(test));
    },
  };
}

export function compileRule(spec: RuleSpec, ctx: PathContext): Matcher {
  switch (spec.kind) {
    case 'Read':
    case 'Edit': {
      const verb = spec.kind === 'Read' ? 'reading' : 'writing';
      if (spec.specifier === null) {
        const all: PathMatcher = { ...make(spec, `${verb} any file`, (s) => s.kind === spec.kind), pattern: null };
        return all;
      }
      const p = compilePathPattern(spec.specifier, ctx);
      const m = make(spec, `${verb} ${p.display}`, (s) => (s.kind === 'Read' || s.kind === 'Edit') && s.kind === spec.kind && p.matches(s.path));
      const pm: PathMatcher = { ...m, pattern: p };
      return pm;
    }
    case 'Bash':
      return compileBash(spec);
    case 'Net': {
      if (spec.specifier === null) {
        return make(spec, 'connections to any host (IP addresses and localhost only for deny)', (s) =>
          (s.kind === 'Net' || s.kind === 'Http' || s.kind === 'WebFetch') && hostMatches({ type: 'any' }, s.host, spec.effect));
      }
      const p = parseNetPattern(spec.specifier, spec.text);
      return make(spec, `connections to ${describeNetPattern(p)}`, (s) => {
        if (s.kind === 'Net' || s.kind === 'Http') return hostMatches(p.host, s.host, spec.effect) && portMatches(p.port, s.port);
        if (s.kind === 'WebFetch') return p.port === null && hostMatches(p.host, s.host, spec.effect);
        return false;
      });
    }
    case 'Http': {
      // A tunnel (CONNECT, SOCKS) to a host cannot be inspected: deny and ask
      // rules about any of its paths apply to the whole connection.
      const tunnel = (s: Subject, host: (h: CanonicalHost) => boolean, port: (p: number | null) => boolean): boolean =>
        spec.effect !== 'allow' && s.kind === 'Net' && host(s.host) && port(s.port);
      if (spec.specifier === null) {
        return make(spec, 'every HTTP request', (s) =>
          (s.kind === 'Http' && hostMatches({ type: 'any' }, s.host, spec.effect)) || tunnel(s, (h) => hostMatches({ type: 'any' }, h, spec.effect), () => true));
      }
      const p = parseHttpPattern(spec.specifier, spec.text);
      return make(spec, describeHttpPattern(p), (s) =>
        (s.kind === 'Http' && methodMatches(p, s.method) && hostMatches(p.net.host, s.host, spec.effect) &&
          portMatches(p.net.port, s.port) && httpPathMatches(p, s.path, spec.effect)) ||
        tunnel(s, (h) => hostMatches(p.net.host, h, spec.effect), (port) => portMatches(p.net.port, port)));
    }
    case 'WebFetch': {
      // WebFetch allow rules only allow Claude Code's WebFetch tool; deny and
      // ask rules also cover every other way of reaching that host.
      const appliesTo = (s: Subject): boolean => s.kind === 'WebFetch' || (spec.effect !== 'allow' && (s.kind === 'Net' || s.kind === 'Http'));
      if (spec.specifier === null) return make(spec, 'every WebFetch request', (s) => s.kind === 'WebFetch');
      if (!spec.specifier.startsWith('domain:')) {
        throw new CordonError('CORDON_RULE_INVALID', `'${spec.text}': write WebFetch(domain:example.com)`);
      }
      const net = parseNetPattern(spec.specifier.slice('domain:'.length), spec.text);
      if (net.port !== null) throw new CordonError('CORDON_RULE_INVALID', `'${spec.text}': WebFetch domains take no port`);
      return make(spec, `web fetches from ${describeHostPattern(net.host)}`, (s) =>
        appliesTo(s) && (s.kind === 'Net' || s.kind === 'Http' || s.kind === 'WebFetch') && hostMatches(net.host, s.host, spec.effect));
    }
    case 'Mcp': {
      const m = spec.mcp;
      if (m === undefined) throw new CordonError('CORDON_INTERNAL', `rule '${spec.text}' has no MCP target`);
      const server = globToRegex(m.server);
      const tool = globToRegex(m.tool);
      const args = (spec.args ?? []).map((a) => compileArgMatcher(a, ctx));
      const target = m.tool === '*' ? `every tool of MCP server ${m.server}` : `MCP tool ${m.tool} of server ${m.server}`;
      const cond = args.length === 0 ? '' : ` when ${args.map((a) => a.explain()).join(' and ')}`;
      return make(spec, `${target}${cond}`, (s) =>
        s.kind === 'Mcp' && server.test(s.server) && tool.test(s.tool) && args.every((a) => a.test(s.args)));
    }
  }
}
