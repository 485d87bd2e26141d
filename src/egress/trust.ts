/**
 * Certificate trust on both sides of TLS inspection: the roots the proxy
 * verifies upstream servers with (the system store, plus an extra CA file
 * for tests or a corporate CA), and the bundle the sandbox trusts (the same
 * system store plus the session CA), written by the supervisor into the
 * run's private directory.
 */
import { readFileSync } from 'node:fs';

/** Where distributions keep the system CA bundle (first existing wins). */
export const SYSTEM_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine, Arch
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem', // macOS, BSD
];

const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

/** The system CA bundle in PEM: the first readable distribution bundle, else Node's built-in Mozilla roots. */
export function systemCaBundle(): string {
  for (const file of SYSTEM_BUNDLES) {
    try {
      const text = readFileSync(file, 'utf8');
      if (text.length <= MAX_BUNDLE_BYTES && text.includes('-----BEGIN CERTIFICATE-----')) return text.endsWith('\n') ? text : `${text}\n`;
    } catch {
      // next candidate
    }
  }
  // node:tls is loaded here, not at import: `cordon run` imports this module but needs it only with network.
  return `${process.getBuiltinModule('node:tls').rootCertificates.join('\n')}\n`;
}

/** PEM certificates in `text`, or a message saying why it is not a CA file. */
export function readCaFile(file: string): string {
  const text = readFileSync(file, 'utf8');
  if (text.length > MAX_BUNDLE_BYTES || !text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`${file} holds no PEM certificate`);
  }
  return text.endsWith('\n') ? text : `${text}\n`;
}
