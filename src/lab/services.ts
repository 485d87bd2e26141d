/**
 * The lab's services. Per scenario: an "attacker" collector and an "allowed"
 * service (API, npm registry, git smart-HTTP endpoint). Shared, inside the
 * lab's network namespace: fake metadata endpoints, a private "internal"
 * service and the DNS server the lab controls.
 */
import type { ServerResponse } from 'node:http';
import { startRecording, type RecordingServer } from './recorder.js';
import { leftpadPackage } from './tarball.js';

const ZERO = '0'.repeat(40);

function pkt(line: string): string {
  return `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, connection: 'close' });
  res.end(body);
}

export function startCollector(): Promise<RecordingServer> {
  return startRecording('127.0.0.1', 0, (_req, res) => send(res, 200, 'text/plain', 'thanks\n'));
}

/** The real value of the lab's brokered credential, when a scenario has one: /api/secure accepts only it. */
export interface TokenRef {
  value?: string;
}

export function startAllowed(token: TokenRef = {}): Promise<RecordingServer> {
  const pkg = leftpadPackage();
  let base = '';
  const started = startRecording('127.0.0.1', 0, (req, res) => {
    const url = req.url ?? '/';
    const p = url.startsWith('/') ? url.split('?')[0] ?? '/' : new URL(url).pathname;
    const method = req.method ?? 'GET';
    if (p === '/api/ping') return send(res, 200, 'text/plain', 'pong\n');
    if (p === '/api/secure') {
      const real = token.value !== undefined && req.headers.authorization === `Bearer ${token.value}`;
      return real ? send(res, 200, 'application/json', '{"ok":true,"auth":"real"}\n') : send(res, 401, 'application/json', '{"ok":false}\n');
    }
    if (p.startsWith('/api/')) return send(res, 200, 'application/json', '{"ok":true}\n');
    if (p.startsWith('/admin')) return send(res, 200, 'text/plain', 'admin action done\n');
    if (method === 'GET' && p === `/registry/${pkg.name}`) return send(res, 200, 'application/json', JSON.stringify(pkg.packument(base)));
    if (method === 'GET' && p === `/registry/${pkg.name}/-/${pkg.name}-1.0.0.tgz`) return send(res, 200, 'application/octet-stream', pkg.tarball);
    if (method === 'PUT' && p.startsWith('/registry/')) return send(res, 201, 'application/json', '{"ok":true}\n');
    if (method === 'GET' && p === '/repo.git/info/refs' && url.includes('service=git-receive-pack')) {
      const adv = `${pkt('# service=git-receive-pack\n')}0000${pkt(`${ZERO} capabilities^{}\0report-status delete-refs ofs-delta\n`)}0000`;
      return send(res, 200, 'application/x-git-receive-pack-advertisement', adv);
    }
    if (method === 'POST' && p === '/repo.git/git-receive-pack') {
      return send(res, 200, 'application/x-git-receive-pack-result', `${pkt('unpack ok\n')}${pkt('ok refs/heads/main\n')}0000`);
    }
    return send(res, 404, 'text/plain', 'not found\n');
  });
  return started.then((s) => {
    base = `http://127.0.0.1:${s.port}`;
    return s;
  });
}

/** Metadata and internal addresses added to the lab namespace's loopback. */
export const METADATA_V4 = ['169.254.169.254', '169.254.170.2', '100.100.100.200', '192.0.0.192'] as const;
export const METADATA_V6 = 'fd00:ec2::254';
export const INTERNAL_V4 = '10.77.0.5';

export interface SharedServices {
  readonly metadata: RecordingServer[];
  readonly internal: RecordingServer;
  readonly ipv6: boolean;
  close(): Promise<void>;
}

export async function startShared(ipv6: boolean): Promise<SharedServices> {
  const meta = (_r: unknown, res: ServerResponse): void => send(res, 200, 'application/json', '{"AccessKeyId":"ASIA-LAB","Token":"metadata-lab"}\n');
  const metadata = await Promise.all(METADATA_V4.map((ip) => startRecording(ip, 80, meta)));
  if (ipv6) metadata.push(await startRecording(METADATA_V6, 80, meta));
  const internal = await startRecording(INTERNAL_V4, 80, (_r, res) => send(res, 200, 'text/plain', 'internal admin\n'));
  return {
    metadata, internal, ipv6,
    close: async () => {
      await Promise.all([...metadata, internal].map((s) => s.close()));
    },
  };
}
