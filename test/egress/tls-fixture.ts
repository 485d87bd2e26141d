/** A test CA and a server certificate for 127.0.0.1 and tls.test, made with openssl (argv arrays) in a temp dir. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestPki {
  readonly ca: string;
  readonly key: string;
  readonly cert: string;
}

export function makePki(): TestPki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-pki-'));
  const f = (n: string): string => path.join(dir, n);
  const ssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=cordon test CA']);
  ssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('srv.key'), '-out', f('srv.csr'), '-subj', '/CN=tls.test']);
  writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:tls.test,IP:127.0.0.1\n');
  ssl(['x509', '-req', '-in', f('srv.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('srv.pem'), '-days', '1', '-extfile', f('ext.cnf')]);
  return { ca: readFileSync(f('ca.pem'), 'utf8'), key: readFileSync(f('srv.key'), 'utf8'), cert: readFileSync(f('srv.pem'), 'utf8') };
}
