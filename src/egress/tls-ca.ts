/**
 * The per-session certificate authority of TLS inspection. It is created
 * inside the proxy process (EC P-256, WebCrypto) and its private key is
 * generated non-extractable: no code path can export it, so it never leaves
 * this process. Only the CA certificate (PEM) is handed out, for the
 * supervisor to trust inside the sandbox.
 *
 * Leaf certificates are issued on demand for the host of an inspected tunnel
 * (DNS or IP subject alternative name) and cached per host in a bounded LRU
 * map; concurrent requests for one host share one issuance. All leaves share
 * one session key pair (as mitmproxy does): issuing is one signature.
 */
import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { createSecureContext, type SecureContext } from 'node:tls';
import type * as X509 from '@peculiar/x509';
import type { CanonicalHost } from '../policy/types.js';
import { installReflectMetadata } from './reflect-shim.js';
import { PREFERRED_CIPHERS } from './tls-ciphers.js';

type X509Module = typeof X509;
let loaded: Promise<X509Module> | undefined;

/** x509 is loaded on first use, after the Reflect metadata functions its DI container checks for. */
function x509Module(): Promise<X509Module> {
  installReflectMetadata();
  loaded ??= import('@peculiar/x509');
  return loaded;
}

const EC: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const HOUR = 3600_000;
const DAY = 24 * HOUR;

export interface SessionCaOptions {
  /** Leaf certificates kept (LRU). Above: the least recently used is dropped and reissued when needed. Default 1000. */
  readonly maxCachedLeaves?: number;
  /** How long the CA is valid (ms, default 30 days). */
  readonly caValidityMs?: number;
  /** How long a leaf is valid (ms, default 7 days; reissued after a day in the cache). */
  readonly leafValidityMs?: number;
}

interface CachedLeaf {
  readonly context: Promise<SecureContext>;
  readonly issuedAt: number;
}

function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0] ?? 0) & 0x7f; // positive INTEGER
  if (b[0] === 0) b[0] = 1;
  return Buffer.from(b).toString('hex');
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

export class SessionCa {
  /** The CA certificate in PEM: the only part of the CA that leaves the proxy process. */
  readonly certPem: string;
  readonly #caCert: X509.X509Certificate;
  readonly #caKey: CryptoKey;
  readonly #leafKeys: CryptoKeyPair;
  readonly #leafKeyPem: string;
  readonly #leaves = new Map<string, CachedLeaf>();
  readonly #max: number;
  readonly #leafValidity: number;
  #issued = 0;

  private constructor(caCert: X509.X509Certificate, caKey: CryptoKey, leafKeys: CryptoKeyPair, leafKeyPem: string, o: SessionCaOptions) {
    this.#caCert = caCert;
    this.certPem = caCert.toString('pem') + '\n';
    this.#caKey = caKey;
    this.#leafKeys = leafKeys;
    this.#leafKeyPem = leafKeyPem;
    this.#max = Math.max(1, o.maxCachedLeaves ?? 1000);
    this.#leafValidity = o.leafValidityMs ?? 7 * DAY;
  }

  /** A new CA with a non-extractable private key, plus the session's leaf key pair. */
  static async create(session: string, o: SessionCaOptions = {}): Promise<SessionCa> {
    const x509 = await x509Module();
    const ca = await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify']);
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: [{ CN: [`cordon session CA ${session}`] }, { O: ['cordon (trusted only inside this sandbox)'] }],
      notBefore: new Date(now - HOUR),
      notAfter: new Date(now + (o.caValidityMs ?? 30 * DAY)),
      signingAlgorithm: SIGN,
      keys: ca,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(ca.publicKey),
      ],
    });
    const leafKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
    const leafKeyPem = pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey));
    return new SessionCa(cert, ca.privateKey, leafKeys, leafKeyPem, o);
  }

  /** Leaf certificates issued so far (tests, diagnostics). */
  get issued(): number {
    return this.#issued;
  }

  get cached(): number {
    return this.#leaves.size;
  }

  /** A TLS server context presenting a leaf for `host` (cached, LRU-bounded). */
  contextFor(host: CanonicalHost): Promise<SecureContext> {
    const key = `${host.type}:${host.name}`;
    const hit = this.#leaves.get(key);
    const now = Date.now();
    if (hit !== undefined && now - hit.issuedAt < DAY) {
      this.#leaves.delete(key);
      this.#leaves.set(key, hit);
      return hit.context;
    }
    const context = this.#issue(host, now).then((certPem) => createSecureContext({ key: this.#leafKeyPem, cert: certPem + this.certPem, ciphers: PREFERRED_CIPHERS, honorCipherOrder: true }));
    context.catch(() => this.#leaves.delete(key));
    this.#leaves.set(key, { context, issuedAt: now });
    while (this.#leaves.size > this.#max) {
      const oldest = this.#leaves.keys().next().value;
      if (oldest === undefined) break;
      this.#leaves.delete(oldest);
    }
    return context;
  }

  async #issue(host: CanonicalHost, now: number): Promise<string> {
    const x509 = await x509Module();
    this.#issued += 1;
    const san = host.type === 'dns' ? { type: 'dns' as const, value: host.name } : { type: 'ip' as const, value: host.name };
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: host.name.length <= 64 ? [{ CN: [host.name] }] : [{ O: ['cordon inspected host'] }],
      issuer: this.#caCert.subjectName,
      notBefore: new Date(now - HOUR),
      notAfter: new Date(Math.min(now + this.#leafValidity, this.#caCert.notAfter.getTime())),
      signingAlgorithm: SIGN,
      publicKey: this.#leafKeys.publicKey,
      signingKey: this.#caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([san], false),
        await x509.AuthorityKeyIdentifierExtension.create(this.#caCert, false),
      ],
    });
    return cert.toString('pem') + '\n';
  }
}
