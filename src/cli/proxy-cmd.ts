/**
 * `cordon proxy`: the egress proxy alone, for shared use (a fleet's egress
 * service). It listens on loopback only, decides with the effective policy
 * like `cordon run` does, scans requests with the same DLP scanner, inspects
 * TLS with a CA of its own (policy `egress.tls`, default on), and records
 * every decision in its own audit session. The CA's private key is made in
 * this process, non-extractable, and never leaves it; only the certificate
 * is written, to the file `--ca-out` names, for clients to trust.
 * Runs until SIGINT or SIGTERM; returns the exit status.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fchmodSync, fstatSync, ftruncateSync, lstatSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isIP } from 'node:net';
import { newSessionId, stateDir } from '../audit/paths.js';
import { AuditWriter } from '../audit/writer.js';
import { collectKnownSecrets } from '../dlp/known-sources.js';
import { createRequestScanner } from '../dlp/proxy-scanner.js';
import { parseAuthority } from '../egress/hostname.js';
import { classifyAddress } from '../egress/ip-ranges.js';
import { upstreamCa } from '../egress/proxy-client.js';
import { startProxy, type ListenOn, type TlsOptions } from '../egress/proxy-server.js';
import type { RequestScanner } from '../egress/scanner.js';
import { SessionCa } from '../egress/tls-ca.js';
import { SYSTEM_BUNDLES } from '../egress/trust.js';
import { CordonError } from '../errors.js';
import { loadPolicyCached } from '../policy/cache.js';
import type { LoadedPolicy } from '../policy/load.js';
import { Policy } from '../policy/policy.js';
import { loadOptions, type PolicyCommonOptions } from './policy-options.js';

export interface ProxyCommandOptions extends PolicyCommonOptions {
  /** HTTP/CONNECT listener, `host:port` on loopback (default 127.0.0.1:3128). */
  readonly listen?: string;
  /** SOCKS5 listener, `host:port` on loopback (default 127.0.0.1:1080); `off` disables it. */
  readonly socks?: string;
  /** Log would-deny decisions and forward anyway (mandatory denies and address checks still apply). */
  readonly reportOnly?: boolean;
  /** False (`--no-inspect`): tunnels stay opaque, as with policy `egress.tls.inspect: false`. */
  readonly inspect?: boolean;
  /** Where the session CA certificate is written (PEM, mode 0644); required with TLS inspection. */
  readonly caOut?: string;
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

/**
 * Writes the CA certificate to `file` (mode 0644): a new file, or an existing
 * regular file with no other hard link. A symlink (not followed: O_NOFOLLOW),
 * a directory, FIFO, device or socket is refused, before and after opening.
 */
export function writeCaCertificate(file: string, pem: string): string {
  const abs = path.resolve(file);
  const refuse = (why: string): never => {
    throw new CordonError('CORDON_USAGE', `--ca-out ${JSON.stringify(file)} ${why}; name a new file or a regular file of yours`);
  };
  try {
    const st = lstatSync(abs);
    if (st.isSymbolicLink()) refuse('is a symbolic link (not followed)');
    if (!st.isFile()) refuse('exists and is not a regular file');
  } catch (e) {
    if (e instanceof CordonError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') refuse(`cannot be checked (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO swapped in meanwhile cannot block the open; it is refused below.
    fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
  } catch (e) {
    return refuse(`cannot be opened for writing (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) refuse('is not a regular file');
    if (st.nlink > 1) refuse('has other hard links (writing it would change another file)');
    ftruncateSync(fd, 0);
    const bytes = Buffer.from(pem, 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off);
    fchmodSync(fd, 0o644);
  } finally {
    closeSync(fd);
  }
  return abs;
}

/** How clients trust the session CA: variables that add to the built-in roots take the file; those that replace them need a bundle. */
export function trustHint(caFile: string): string {
  const system = SYSTEM_BUNDLES.find((f) => existsSync(f)) ?? '/etc/ssl/certs/ca-certificates.crt';
  return [
    `cordon proxy: TLS inspection on; the session CA certificate is in ${caFile} (its private key never leaves this process). Clients trust it with:`,
    `  NODE_EXTRA_CA_CERTS=${caFile} DENO_CERT=${caFile}   (added to the built-in roots)`,
    `  cat ${system} ${caFile} > bundle.pem, then SSL_CERT_FILE, CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE, PIP_CERT, GIT_SSL_CAINFO, AWS_CA_BUNDLE, npm_config_cafile=bundle.pem   (these replace the roots: passthrough hosts still need the system ones)`,
  ].join('\n');
}

/**
 * The DLP request scanner of `cordon run`'s proxy, with the known secrets of
 * this process's environment (dlp.known_secrets.env globs, or the default
 * credential names) and dlp.known_secrets.files, held as fingerprints under a
 * random key of this process.
 */
function requestScanner(loaded: LoadedPolicy): RequestScanner {
  const ks = loaded.settings.dlp?.known_secrets;
  const c = collectKnownSecrets({ env: process.env, ...(ks?.env ? { envGlobs: ks.env } : {}), ...(ks?.files ? { files: ks.files } : {}) });
  for (const p of c.problems) process.stderr.write(`cordon proxy: warning: known secrets file ${p}\n`);
  return createRequestScanner(c.set.size === 0 ? {} : { known: c.set.matcher(randomBytes(32)) });
}

export async function proxyCommand(opts: ProxyCommandOptions): Promise<number> {
  const http = loopback(opts.listen ?? '127.0.0.1:3128', '--listen');
  const socks = opts.socks === 'off' ? undefined : loopback(opts.socks ?? '127.0.0.1:1080', '--socks');
  const loaded = await loadPolicyCached(loadOptions(opts));
  const t = loaded.settings.egress?.tls;
  const inspect = opts.inspect !== false && t?.inspect !== false;
  if (inspect && (opts.caOut === undefined || opts.caOut === '')) {
    throw new CordonError('CORDON_USAGE', 'TLS inspection (policy egress.tls.inspect, default on) needs --ca-out FILE, where the session CA certificate is written for clients to trust; or --no-inspect to keep tunnels opaque');
  }
  // Upstreams are verified against the system store plus CORDON_EGRESS_EXTRA_CA (as in cordon run; unreadable is an error).
  const extraCa = inspect ? upstreamCa({}) : undefined;
  // DLP as in cordon run: on unless dlp.action is report.
  const scanner = loaded.settings.dlp?.action === 'report' ? undefined : requestScanner(loaded);
  const session = newSessionId();
  const writer = AuditWriter.open({ dir: path.resolve(loaded.settings.audit?.dir ?? stateDir()), session });
  const unsubscribe = writer.subscribe();
  try {
    let tls: TlsOptions | undefined;
    let caFile: string | undefined;
    if (inspect) {
      const ca = await SessionCa.create(randomBytes(4).toString('hex'));
      caFile = writeCaCertificate(opts.caOut ?? '', ca.certPem);
      tls = { ca, ...(t?.passthrough === undefined ? {} : { passthrough: t.passthrough }), ...(extraCa === undefined ? {} : { extraCa }) };
    }
    const proxy = await startProxy({
      policy: new Policy(loaded), http, ...(socks === undefined ? {} : { socks }), reportOnly: opts.reportOnly === true,
      ...(scanner === undefined ? {} : { scanner }), ...(tls === undefined ? {} : { tls }),
    });
    const where = (a: typeof proxy.httpAddress): string => (a === undefined ? 'off' : `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
    const mode = [tls === undefined ? 'tunnels opaque' : 'TLS inspected', scanner === undefined ? 'DLP report-only (off)' : 'DLP on', ...(opts.reportOnly === true ? ['report-only'] : [])].join(', ');
    const hint = caFile === undefined ? '' : `${trustHint(caFile)}\n`;
    process.stderr.write(`cordon proxy: HTTP ${where(proxy.httpAddress)}, SOCKS5 ${where(proxy.socksAddress)}; ${mode}; decisions in cordon audit tail ${session}\n${hint}`);
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
