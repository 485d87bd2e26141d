/**
 * Cipher preference of the proxy's two TLS ends (inspected tunnels): Node's
 * default list with AES-128-GCM first. Every suite of the default stays
 * enabled; only the order changes. AES-128-GCM is a TLS 1.3 mandatory suite
 * and, with AES-NI, the cheapest one here: per 100 MB through Node's OpenSSL,
 * AES-128-GCM ~76 ms, AES-256-GCM ~111 ms, ChaCha20-Poly1305 ~163 ms (the
 * proxy decrypts and encrypts every byte of an inspected body once each).
 */
import { DEFAULT_CIPHERS } from 'node:tls';

const FIRST = ['TLS_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'];

/** OpenSSL cipher string: TLS 1.3 and 1.2 AES-128-GCM suites first, then the rest of Node's default list in its order. */
export const PREFERRED_CIPHERS = [...FIRST, ...DEFAULT_CIPHERS.split(':').filter((c) => !FIRST.includes(c))].join(':');

/**
 * What the proxy offers upstream servers first: for TLS 1.3 AES-128-GCM only (the suite every TLS 1.3 server must
 * implement), for TLS 1.2 the list above. Servers choose the suite, most by their own order, which puts AES-256-GCM
 * first (Node's and OpenSSL's default): offering AES-128-GCM alone makes the upstream leg of an inspected download
 * ~35 ms of CPU per 100 MB cheaper in the proxy (and in the server). A server that refuses the offer in the
 * handshake (no shared suite) is asked again with PREFERRED_CIPHERS (src/egress/upstream-http.ts).
 */
export const UPSTREAM_FIRST_CIPHERS = ['TLS_AES_128_GCM_SHA256', ...PREFERRED_CIPHERS.split(':').filter((c) => !c.startsWith('TLS_'))].join(':');

const NO_SHARED_SUITE = new Set(['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY']);

/**
 * A handshake the server refused for want of a shared suite: its alert handshake_failure or insufficient_security
 * (a socket's error says so by its code, or as EPROTO with OpenSSL's text).
 */
export function refusedSuites(e: NodeJS.ErrnoException): boolean {
  return NO_SHARED_SUITE.has(e.code ?? '') || (e.code === 'EPROTO' && /alert (?:handshake failure|insufficient security)/.test(e.message));
}
