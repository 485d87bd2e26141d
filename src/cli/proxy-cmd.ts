/**
 * `cordon proxy`: the egress proxy alone, for shared use (a fleet's egress
 * service). It listens on loopback only, decides with the effective policy
 * like `cordon run` does, and records every decision in its own audit session.
 * Runs until SIGINT or SIGTERM; returns the exit status.
 */
import path from 'node:path';
import { isIP } from 'node:net';
import { newSessionId, stateDir } from '../audit/paths.js';
import { AuditWriter } from '../audit/writer.js';
import { parseAuthority } from '../egress/hostname.js';
import { classifyAddress } from '../egress/ip-ranges.js';
import { startProxy, type ListenOn } from '../egress/proxy-server.js';
import { CordonError } from '../errors.js';
import { loadPolicyCached } from '../policy/cache.js';
import { Policy } from '../policy/policy.js';
import { loadOptions, type PolicyCommonOptions } from './policy-options.js';

export interface ProxyCommandOptions extends PolicyCommonOptions {
  /** HTTP/CONNECT listener, `host:port` on loopback (default 127.0.0.1:3128). */
  readonly listen?: string;
  /** SOCKS5 listener, `host:port` on loopback (default 127.0.0.1:1080); `off` disables it. */
  readonly socks?: string;
  /** Log would-deny decisions and forward anyway (mandatory denies and address checks still apply). */
  readonly reportOnly?: boolean;
  /** Stops the proxy (tests); SIGINT and SIGTERM do too. */
  readonly signal?: AbortSignal;
}

/** A loopback `host:port`; anything else is a usage error (a shared proxy on a public address is an open relay). */
function loopback(text: string, what: string): ListenOn {
  let a: ReturnType<typeof parseAuthority>;
  try {
    a = parseAuthority(text);
  } catch (e) {
    throw new CordonError('CORDON_USAGE', `${what} ${JSON.stringify(text)}: ${e instanceof Error ? e.message : 'invalid'}; write 127.0.0.1:PORT`);
  }
  if (a.host.type === 'dns' || isIP(a.host.name) === 0 || classifyAddress(a.host).range?.name.startsWith('loopback') !== true) {
    throw new CordonError('CORDON_USAGE', `${what} must be a loopback address such as 127.0.0.1:3128 or [::1]:3128, not ${JSON.stringify(text)}`);
  }
  return { host: a.host.name, port: a.port };
}

export async function proxyCommand(opts: ProxyCommandOptions): Promise<number> {
  const http = loopback(opts.listen ?? '127.0.0.1:3128', '--listen');
  const socks = opts.socks === 'off' ? undefined : loopback(opts.socks ?? '127.0.0.1:1080', '--socks');
  const loaded = await loadPolicyCached(loadOptions(opts));
  const session = newSessionId();
  const writer = AuditWriter.open({ dir: path.resolve(loaded.settings.audit?.dir ?? stateDir()), session });
  const unsubscribe = writer.subscribe();
  try {
    const proxy = await startProxy({ policy: new Policy(loaded), http, ...(socks === undefined ? {} : { socks }), reportOnly: opts.reportOnly === true });
    const where = (a: typeof proxy.httpAddress): string => (a === undefined ? 'off' : `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
    process.stderr.write(`cordon proxy: HTTP ${where(proxy.httpAddress)}, SOCKS5 ${where(proxy.socksAddress)}${opts.reportOnly === true ? ', report-only' : ''}; decisions in cordon audit tail ${session}\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      if (opts.signal?.aborted === true) stop();
      opts.signal?.addEventListener('abort', stop, { once: true });
    });
    await proxy.close();
    return 0;
  } catch (e) {
    if (e instanceof CordonError) throw e;
    throw new CordonError('CORDON_EGRESS_PROXY', `the proxy could not start: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    unsubscribe();
    writer.close();
  }
}
