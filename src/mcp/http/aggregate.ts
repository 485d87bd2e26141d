/**
 * The aggregating gateway: every server of the policy's `mcp.servers` behind
 * one Streamable HTTP endpoint. Tools and prompts are namespaced
 * `server__name` (the `mcp__server__tool` rules name the same pair);
 * resources keep their URIs and are routed to the server that listed them.
 * Each call goes through its server's own gateway core (policy, pins,
 * scanning); a namespaced name that two servers would both produce is
 * refused, and the shared shadowing registry refuses a raw tool name a
 * second server tries to take over.
 *
 * Requests from a server (sampling, elicitation, roots, ping) are relayed to
 * the client session they belong to under an id of cordon's (so two
 * servers' ids never collide), on the event stream of the client request
 * they came with when there is one; the client's response goes back to that
 * server under the server's own id. The session is the one whose request
 * the server's message came with (HTTP upstreams), else the only session
 * with requests in flight on that server, else the only session: when
 * cordon cannot tell, or the client did not declare the capability, the
 * server gets an error instead.
 */
import type { ServerResponse } from 'node:http';
import { mcpEvent, type AuditSink } from '../audit.js';
import { CLIENT_CANCELLED } from '../call-approval.js';

const SESSION_ENDED = 'The client\'s session ended while the call waited for approval; the approval was withdrawn and the call not sent.';
import { errorLine, idKey, isObject, resultLine, RPC, type JsonObject, type JsonRpcId, type Message } from '../jsonrpc.js';
import { ClientChannel } from './channel.js';
import { errorMessage, type RequestOwner, type Response, type ServerLink } from './link.js';
import { eraOf } from './protocol.js';
import { canResume, openStream, refuse, STREAM_CLOSED, type ClientMessage, type Exchange, type FrontSession, type StreamRequest } from './session.js';

export const SEP = '__';
const PAGES = 50;
const VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2026-07-28'];
/** Server requests waiting for a client's response, over all sessions; above it a server's request gets an error. */
const MAX_RELAYED = 1024;
/** The client capability a server request needs (`ping` needs none). */
const NEEDS: Readonly<Record<string, string>> = { 'sampling/createMessage': 'sampling', 'elicitation/create': 'elicitation', 'roots/list': 'roots' };

interface Relayed {
  readonly link: ServerLink;
  /** The server's own id for its request. */
  readonly id: JsonRpcId;
  readonly session: AggregateSession;
}

type Kind = 'tools' | 'prompts';

/** 2026-07-28 `subscriptions/listen`: the `_meta` key that tags every message of a subscription's stream. */
const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
/** The list changes a subscription can ask for, by notification: what the aggregating gateway honours (it has no resource or task events to give). */
const LIST_FLAGS: Readonly<Record<string, string>> = {
  'notifications/tools/list_changed': 'toolsListChanged',
  'notifications/prompts/list_changed': 'promptsListChanged',
  'notifications/resources/list_changed': 'resourcesListChanged',
};

interface Subscription {
  readonly id: JsonRpcId;
  /** The filter flags honoured (a subset of LIST_FLAGS' values, as the client asked). */
  readonly honored: Readonly<Record<string, true>>;
}

interface Route {
  readonly server: string;
  readonly name: string;
}

export class Aggregator {
  readonly links = new Map<string, ServerLink>();
  readonly #routes: Record<Kind, Map<string, Route>> = { tools: new Map(), prompts: new Map() };
  readonly #resources = new Map<string, string>();
  readonly #sessions = new Set<AggregateSession>();
  /** Rewritten progress tokens → the client exchange waiting for them. */
  readonly #progress = new Map<string, { session: AggregateSession; token: unknown; origin: string }>();
  #progressSeq = 0;
  /** Server requests relayed to a client, by the id key cordon gave them. */
  readonly #relayed = new Map<string, Relayed>();
  #relaySeq = 0;
  readonly #audit: AuditSink;
  readonly #log: (line: string) => void;

  constructor(audit: AuditSink, log: (line: string) => void) {
    this.#audit = audit;
    this.#log = log;
  }

  add(link: ServerLink): void {
    this.links.set(link.name, link);
  }

  /** Starts every server in configuration order (so the first server keeps a contested tool name). */
  async start(): Promise<void> {
    for (const link of this.links.values()) {
      try {
        await link.start();
        if (link.down === null) await this.#list(link, 'tools');
      } catch (e) {
        link.down = e instanceof Error ? e.message : String(e);
      }
      if (link.down !== null) this.#log(`cordon mcp: server ${link.name} is unavailable: ${link.down}`);
    }
  }

  session(): AggregateSession {
    const s = new AggregateSession(this);
    this.#sessions.add(s);
    return s;
  }

  forget(s: AggregateSession): void {
    this.#sessions.delete(s);
    for (const [k, p] of this.#progress) if (p.session === s) this.#progress.delete(k);
    for (const [k, r] of this.#relayed) {
      if (r.session !== s) continue;
      this.#relayed.delete(k);
      r.link.answer(errorLine(r.id, RPC.gatewayUnavailable, 'the client session ended before it answered'));
    }
  }

  /** A request a server's core let through: to the client session it belongs to, under a new id. */
  serverRequest(link: ServerLink, m: Extract<Message, { kind: 'request' }>, owners: readonly RequestOwner[]): void {
    const fail = (code: number, why: string): void => {
      this.#log(`cordon mcp: ${link.name}'s ${m.method.slice(0, 100)} request was not relayed: ${why}`);
      link.answer(errorLine(m.id, code, why));
    };
    const mine = owners.filter((o): o is RequestOwner & { session: AggregateSession } => o.session instanceof AggregateSession && this.#sessions.has(o.session));
    const sessions = new Set(mine.map((o) => o.session));
    const last = mine.at(-1);
    const session = sessions.size === 1 ? last?.session : sessions.size === 0 && this.#sessions.size === 1 ? [...this.#sessions][0] : undefined;
    if (session === undefined) {
      fail(RPC.gatewayUnavailable, sessions.size === 0 ? 'no client session is connected to cordon\'s gateway' : 'cordon cannot tell which of several client sessions this request belongs to');
      return;
    }
    const missing = session.lacks(m.method);
    if (missing !== null) {
      fail(RPC.methodNotFound, `the client did not declare the ${missing} capability`);
      return;
    }
    if (this.#relayed.size >= MAX_RELAYED) {
      fail(RPC.gatewayUnavailable, 'too many server requests are waiting for the client');
      return;
    }
    const id = `cordon-r${++this.#relaySeq}`;
    this.#relayed.set(idKey(id), { link, id: m.id, session });
    if (!session.push(JSON.stringify({ ...m.obj, id }), sessions.size === 1 ? (last?.origin ?? null) : null)) {
      this.#relayed.delete(idKey(id));
      fail(RPC.gatewayUnavailable, 'the client has no open stream for requests from the server');
    }
  }

  /** A client's response to a relayed request: to its server under the server's id. False when it answers nothing relayed to this session. */
  clientResponse(session: AggregateSession, m: Extract<Message, { kind: 'response' }>): boolean {
    const key = idKey(m.id);
    const r = this.#relayed.get(key);
    if (r === undefined || r.session !== session) return false;
    this.#relayed.delete(key);
    r.link.answer(JSON.stringify({ ...m.obj, id: r.id }));
    return true;
  }

  /** A client notification every server should hear (the client's roots changed). */
  notifyAll(method: string): void {
    for (const l of this.links.values()) if (l.down === null) l.answer(JSON.stringify({ jsonrpc: '2.0', method }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.close()));
  }

  /** A notification a server's core let through. */
  notification(server: string, method: string, obj: JsonObject): void {
    const params = isObject(obj['params']) ? obj['params'] : {};
    if (method === 'notifications/progress') {
      const key = typeof params['progressToken'] === 'string' ? params['progressToken'] : '';
      const p = this.#progress.get(key);
      if (p !== undefined) p.session.push(JSON.stringify({ ...obj, params: { ...params, progressToken: p.token } }), p.origin);
      return;
    }
    if (LIST_FLAGS[method] !== undefined) {
      for (const s of this.#sessions) {
        s.push(JSON.stringify({ jsonrpc: '2.0', method }), null); // a session-era client's GET stream
        s.listChanged(method); // a stateless-era client's subscriptions
      }
      return;
    }
    if (method === 'notifications/message') {
      for (const s of this.#sessions) s.push(JSON.stringify({ ...obj, params: { ...params, logger: `${server}${typeof params['logger'] === 'string' ? `/${params['logger']}` : ''}` } }), null);
    }
  }

  progressToken(session: AggregateSession, token: unknown, origin: string): string {
    const key = `cordon-p${++this.#progressSeq}`;
    this.#progress.set(key, { session, token, origin });
    return key;
  }

  releaseProgress(key: string): void {
    this.#progress.delete(key);
  }

  /** Lists one server's tools or prompts (all pages) through its core. */
  async #list(link: ServerLink, kind: Kind, meta?: JsonObject): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < PAGES; page++) {
      const r = await link.request(`${kind}/list`, { ...(cursor === undefined ? {} : { cursor }), ...(meta === undefined ? {} : { _meta: meta }) });
      if (!r.ok || !isObject(r.result) || !Array.isArray(r.result[kind])) {
        if (!r.ok && page === 0) this.#log(`cordon mcp: ${link.name} ${kind}/list failed: ${errorMessage(r)}`);
        break;
      }
      for (const t of r.result[kind] as unknown[]) if (isObject(t) && typeof t['name'] === 'string') out.push(t);
      cursor = typeof r.result['nextCursor'] === 'string' ? r.result['nextCursor'] : undefined;
      if (cursor === undefined) break;
    }
    return out;
  }

  /** The merged, namespaced list of every live server. */
  async list(kind: Kind, meta?: JsonObject): Promise<JsonObject[]> {
    const live = [...this.links.values()].filter((l) => l.down === null);
    const per = await Promise.all(live.map(async (l) => ({ server: l.name, items: await this.#list(l, kind, meta) })));
    const routes = new Map<string, Route>();
    const out: JsonObject[] = [];
    const clash = new Set<string>();
    for (const { server, items } of per) {
      for (const item of items) {
        const name = item['name'] as string;
        const full = `${server}${SEP}${name}`;
        const prev = routes.get(full);
        if (prev !== undefined) {
          clash.add(full);
          this.#audit(mcpEvent(`mcp__${server}__${name}`, 'deny', 'shadowing', `the namespaced name ${full} is also produced by ${prev.server}'s ${prev.name}; both are withheld`));
          continue;
        }
        routes.set(full, { server, name });
        out.push({ ...item, name: full });
      }
    }
    for (const c of clash) routes.delete(c);
    this.#routes[kind] = routes;
    return out.filter((i) => !clash.has(i['name'] as string));
  }

  /** The server and its own name for a namespaced tool or prompt; null when none or ambiguous. */
  route(kind: Kind, full: string): Route | null {
    const known = this.#routes[kind].get(full);
    if (known !== undefined) return known;
    const matches = [...this.links.keys()].filter((s) => full.startsWith(`${s}${SEP}`) && full.length > s.length + SEP.length);
    if (matches.length !== 1 || matches[0] === undefined) return null;
    return { server: matches[0], name: full.slice(matches[0].length + SEP.length) };
  }

  async listResources(key: 'resources' | 'resourceTemplates', meta?: JsonObject): Promise<JsonObject[]> {
    const method = key === 'resources' ? 'resources/list' : 'resources/templates/list';
    const live = [...this.links.values()].filter((l) => l.down === null);
    const per = await Promise.all(live.map(async (l) => ({ l, r: await l.request(method, meta === undefined ? undefined : { _meta: meta }) })));
    const out: JsonObject[] = [];
    for (const { l, r } of per) {
      if (!r.ok || !isObject(r.result) || !Array.isArray(r.result[key])) continue;
      for (const item of r.result[key] as unknown[]) {
        if (!isObject(item)) continue;
        const uri = item['uri'];
        if (typeof uri === 'string') {
          const owner = this.#resources.get(uri);
          if (owner !== undefined && owner !== l.name) {
            this.#audit(mcpEvent(`mcp__${l.name} resources/list`, 'deny', 'shadowing', `resource ${uri} is already served by ${owner}; a second server may not take it over`));
            continue;
          }
          this.#resources.set(uri, l.name);
        }
        out.push({ ...item, ...(typeof item['name'] === 'string' ? { name: item['name'] } : {}), _meta: { ...(isObject(item['_meta']) ? item['_meta'] : {}), 'cordon/server': l.name } });
      }
    }
    return out;
  }

  resourceOwner(uri: string): string | null {
    return this.#resources.get(uri) ?? null;
  }
}

/** Strips the stateless-era protocol fields (links keep their own negotiated version); keeps the rest of `_meta`. */
function linkMeta(params: JsonObject): JsonObject | undefined {
  const meta = params['_meta'];
  if (!isObject(meta)) return undefined;
  const keep: JsonObject = {};
  for (const [k, v] of Object.entries(meta)) if (!k.startsWith('io.modelcontextprotocol/')) keep[k] = v;
  return Object.keys(keep).length === 0 ? undefined : keep;
}

export class AggregateSession implements FrontSession {
  readonly #agg: Aggregator;
  readonly #channel = new ClientChannel();
  #closed = false;
  /** Requests of this client not answered yet, by id key: aborting one withdraws it if a server's core holds it for approval. */
  readonly #inflight = new Map<string, AbortController>();
  /** The client's capabilities from its `initialize`; null before it (or for a stateless-era client, which sends none). */
  #capabilities: JsonObject | null = null;
  /** Open `subscriptions/listen` requests (2026-07-28), by id key. */
  readonly #subs = new Map<string, Subscription>();

  constructor(agg: Aggregator) {
    this.#agg = agg;
  }

  /** The capability a server request needs that this client did not declare, or null. */
  lacks(method: string): string | null {
    const need = NEEDS[method];
    if (need === undefined || this.#capabilities === null) return null;
    return this.#capabilities[need] === undefined ? need : null;
  }

  get closed(): boolean {
    return this.#closed;
  }

  push(line: string, origin: string | null): boolean {
    return this.#channel.push(line, origin);
  }

  listen(res: ServerResponse, from: StreamRequest): void {
    openStream(this.#channel, res, from);
  }

  /** A list changed on some server: told to the subscriptions that asked for it, on their own streams. */
  listChanged(method: string): void {
    const flag = LIST_FLAGS[method];
    if (flag === undefined) return;
    for (const [key, sub] of this.#subs) {
      if (sub.honored[flag] === true) this.#channel.push(JSON.stringify({ jsonrpc: '2.0', method, params: { _meta: { [SUBSCRIPTION_ID]: sub.id } } }), key);
    }
  }

  /**
   * 2026-07-28 `subscriptions/listen`: the response is an event stream that
   * starts with the acknowledgement (the filter honoured: list changes of
   * tools, prompts and resources) and carries the list changes of every
   * server until the client closes it, or the gateway ends it with the
   * request's result.
   */
  #subscribe(m: Extract<ClientMessage, { kind: 'request' }>, ex: Exchange): void {
    if (!ex.sse) {
      refuse(ex, m.id, 'subscriptions/listen is answered with an event stream: send Accept: text/event-stream');
      return;
    }
    const asked = isObject(m.params) && isObject(m.params['notifications']) ? m.params['notifications'] : {};
    const honored: Record<string, true> = {};
    for (const flag of Object.values(LIST_FLAGS)) if (asked[flag] === true) honored[flag] = true;
    const key = idKey(m.id);
    if (!this.#channel.open(m.id, ex.res, true, ex.headers, false, () => this.#subs.delete(key))) {
      refuse(ex, m.id, 'a request with this id is already in flight');
      return;
    }
    this.#subs.set(key, { id: m.id, honored });
    this.#channel.push(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { _meta: { [SUBSCRIPTION_ID]: m.id }, notifications: honored } }), key);
  }

  async close(): Promise<void> {
    this.#closed = true;
    // Subscriptions end gracefully: their requests are answered.
    for (const sub of this.#subs.values()) this.#channel.respond(sub.id, resultLine(sub.id, { resultType: 'complete', _meta: { [SUBSCRIPTION_ID]: sub.id } }));
    this.#subs.clear();
    // Calls of this session still held for approval in a server's core are withdrawn (the links outlive the session).
    for (const c of this.#inflight.values()) c.abort(SESSION_ENDED);
    this.#inflight.clear();
    this.#channel.close();
    this.#agg.forget(this);
    await Promise.resolve();
  }

  handle(m: ClientMessage, ex: Exchange): void {
    if (m.kind === 'response') {
      if (!this.#agg.clientResponse(this, m)) {
        refuse(ex, m.id, 'this response answers no request cordon relayed to this session', RPC.invalidRequest, 400);
        return;
      }
      ex.res.writeHead(202, ex.headers).end();
      return;
    }
    if (m.kind === 'notification') {
      if (m.method === 'notifications/roots/list_changed') this.#agg.notifyAll(m.method);
      // The client cancelled a request: withdrawn if it is still held for approval (a sent one runs to its end).
      const cancelled = m.method === 'notifications/cancelled' && isObject(m.params) ? m.params['requestId'] : undefined;
      if (typeof cancelled === 'string' || typeof cancelled === 'number') this.#inflight.get(idKey(cancelled))?.abort(CLIENT_CANCELLED);
      ex.res.writeHead(202, ex.headers).end();
      return;
    }
    if (m.method === 'subscriptions/listen' && eraOf(ex.version) === 'stateless') {
      this.#subscribe(m, ex);
      return;
    }
    // A call held for approval in a server's core is withdrawn when its client goes away.
    const gone = new AbortController();
    // In the 2026-07-28 era closing the stream is cancelling the request: a call already sent is cancelled upstream too.
    const closedIs = eraOf(ex.version) === 'stateless' ? STREAM_CLOSED : undefined;
    if (!this.#channel.open(m.id, ex.res, ex.sse, ex.headers, canResume(ex.version), () => gone.abort(closedIs))) {
      refuse(ex, m.id, 'a request with this id is already in flight');
      return;
    }
    const params = isObject(m.params) ? m.params : {};
    const key = idKey(m.id);
    this.#inflight.set(key, gone);
    const done = (): void => {
      if (this.#inflight.get(key) === gone) this.#inflight.delete(key);
    };
    this.#answer(m.id, m.method, params, gone.signal).then(
      (line) => {
        done();
        this.#channel.respond(m.id, line);
      },
      (e: unknown) => {
        done();
        this.#channel.respond(m.id, errorLine(m.id, RPC.gatewayUnavailable, `cordon's gateway failed: ${e instanceof Error ? e.message : String(e)}`));
      },
    );
  }

  async #answer(id: JsonRpcId, method: string, params: JsonObject, gone: AbortSignal): Promise<string> {
    const agg = this.#agg;
    const meta = linkMeta(params);
    switch (method) {
      case 'initialize': {
        this.#capabilities = isObject(params['capabilities']) ? params['capabilities'] : {};
        const asked = typeof params['protocolVersion'] === 'string' ? params['protocolVersion'] : '';
        return resultLine(id, {
          protocolVersion: VERSIONS.includes(asked) ? asked : VERSIONS[0],
          capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true } },
          serverInfo: { name: 'cordon', version: '0.1.0' },
          instructions: this.#instructions(),
        });
      }
      case 'server/discover':
        return resultLine(id, { supportedVersions: VERSIONS, capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true } }, serverInfo: { name: 'cordon', version: '0.1.0' }, instructions: this.#instructions() });
      case 'ping':
        return resultLine(id, {});
      case 'tools/list':
        return resultLine(id, { tools: await agg.list('tools', meta) });
      case 'prompts/list':
        return resultLine(id, { prompts: await agg.list('prompts', meta) });
      case 'resources/list':
        return resultLine(id, { resources: await agg.listResources('resources', meta) });
      case 'resources/templates/list':
        return resultLine(id, { resourceTemplates: await agg.listResources('resourceTemplates', meta) });
      case 'tools/call':
      case 'prompts/get': {
        const kind = method === 'tools/call' ? 'tools' : 'prompts';
        const full = typeof params['name'] === 'string' ? params['name'] : '';
        const route = agg.route(kind, full);
        const link = route === null ? undefined : agg.links.get(route.server);
        if (route === null || link === undefined) {
          if (method === 'tools/call') return resultLine(id, { content: [{ type: 'text', text: `Blocked by cordon: ${JSON.stringify(full.slice(0, 200))} is not a tool cordon's gateway offers (names are server${SEP}tool; list the tools first).` }], isError: true });
          return errorLine(id, RPC.invalidParams, `unknown prompt ${JSON.stringify(full.slice(0, 200))}; names are server${SEP}prompt`);
        }
        return this.#forward(id, link, method, { ...params, name: route.name }, meta, gone);
      }
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        const uri = typeof params['uri'] === 'string' ? params['uri'] : '';
        const owner = agg.resourceOwner(uri);
        const link = owner === null ? undefined : agg.links.get(owner);
        if (link === undefined) return errorLine(id, RPC.invalidParams, 'unknown resource; list the resources first (each is read from the server that listed it)');
        return this.#forward(id, link, method, params, meta, gone);
      }
      default:
        return errorLine(id, RPC.methodNotFound, `method ${method.slice(0, 100)} is not offered by cordon's aggregating gateway`);
    }
  }

  async #forward(id: JsonRpcId, link: ServerLink, method: string, params: JsonObject, meta: JsonObject | undefined, gone: AbortSignal): Promise<string> {
    const m = { ...meta };
    let progressKey: string | undefined;
    if (meta !== undefined && meta['progressToken'] !== undefined) {
      progressKey = this.#agg.progressToken(this, meta['progressToken'], typeof id === 'number' ? `n:${id}` : `s:${id}`);
      m['progressToken'] = progressKey;
    }
    const { _meta: _dropped, ...rest } = params;
    const r: Response = await link.request(method, { ...rest, ...(Object.keys(m).length === 0 ? {} : { _meta: m }) }, { session: this, origin: idKey(id) }, gone);
    if (progressKey !== undefined) this.#agg.releaseProgress(progressKey);
    return JSON.stringify({ ...r.obj, id });
  }

  #instructions(): string {
    const names = [...this.#agg.links.values()].map((l) => `${l.name}${l.down === null ? '' : ' (unavailable)'}`);
    return `cordon's MCP gateway: tools and prompts of ${names.length} servers (${names.join(', ')}), each named server${SEP}name. Calls are checked by cordon's policy; a refusal is a security policy, not a server failure.`;
  }
}
