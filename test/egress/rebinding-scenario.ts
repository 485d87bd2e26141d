/**
 * Run by rebinding.test.ts inside a fresh network namespace (`unshare --net`):
 * 45.1.2.3 (a public address) exists only on this namespace's loopback, so no
 * packet can leave the machine. A name answers public first, then private;
 * the proxy must never connect to the private address. Prints one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startProxy } from '../../src/egress/proxy-server.js';
import { dnsServerResolver } from '../../src/egress/resolver.js';
import { rulesPolicy } from '../../src/policy/test-helpers.js';
import { startDns } from './dns-server.js';
import { raw, viaProxy } from './helpers.js';

const PUBLIC = '45.1.2.3';
execFileSync('ip', ['link', 'set', 'lo', 'up']);
execFileSync('ip', ['addr', 'add', `${PUBLIC}/32`, 'dev', 'lo']);

const seen = { public: 0, private: 0 };
const upstream = (which: 'public' | 'private') => createServer((_req, res) => {
  seen[which] += 1;
  res.end(which);
});
const pub = upstream('public');
await new Promise<void>((r) => pub.listen(0, PUBLIC, r));
const port = (pub.address() as AddressInfo).port;
const priv = upstream('private');
let privConnections = 0;
priv.on('connection', () => (privConnections += 1));
await new Promise<void>((r) => priv.listen(port, '127.0.0.1', r));

const dns = await startDns((name, nth) => {
  if (name === 'rebind.test') return nth === 0 ? [PUBLIC] : ['127.0.0.1'];
  if (name === 'mixed.test') return [PUBLIC, '127.0.0.1'];
  return [];
});
const proxy = await startProxy({
  policy: rulesPolicy({ allow: ['Net(*.test)'] }).policy,
  resolver: dnsServerResolver([`127.0.0.1:${dns.port}`]),
  http: { host: '127.0.0.1', port: 0 },
  socks: { host: '127.0.0.1', port: 0 },
  publish: () => undefined,
  log: () => undefined,
});
const hp = proxy.httpAddress?.port ?? 0;
const statuses: number[] = [];
for (let i = 0; i < 3; i += 1) statuses.push((await viaProxy(hp, 'GET', `http://rebind.test:${port}/`, { headers: { connection: 'close' } })).status);
const mixed = (await viaProxy(hp, 'GET', `http://mixed.test:${port}/`)).status;
const connect = (await raw(hp, `CONNECT rebind.test:${port} HTTP/1.1\r\nHost: x\r\n\r\n`)).data.toString('latin1').slice(0, 12);
const name = Buffer.from('rebind.test');
const socks = [...(await raw(proxy.socksAddress?.port ?? 0, Buffer.from([5, 1, 0, 5, 1, 0, 3, name.length, ...name, port >> 8, port & 0xff]))).data];
process.stdout.write(`${JSON.stringify({ statuses, mixed, connect, socks, seen, privConnections, aQueries: dns.queries.length })}\n`);
await proxy.close();
dns.close();
pub.close();
priv.close();
