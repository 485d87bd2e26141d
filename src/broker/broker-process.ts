/**
 * Entry point of the credential broker process started by `cordon run`. Its
 * environment holds only what the credential sources need; it reads the real
 * values (the only process that does), makes the session's placeholders,
 * sends the supervisor placeholders and fingerprints (never values), and
 * serves the proxy on a Unix socket in a 0700 directory the sandbox never
 * sees. If the supervisor goes away, the broker exits.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { KnownSecretSet, WINDOW } from '../dlp/fingerprint.js';
import { CordonError } from '../errors.js';
import { compileHost } from './hosts.js';
import { FromBrokerSchema, placeholderLabel, ToBrokerSchema, type FromBroker, type ToBroker } from './ipc.js';
import { makePlaceholder } from './placeholder.js';
import { startBroker } from './server.js';
import { resolveSource } from './sources.js';
import type { AwsPair, HeldCredential } from './swap.js';

/** Shortest credential value the broker accepts. */
const MIN_LENGTH = 12;

function send(m: FromBroker): void {
  if (process.connected) process.send?.(FromBrokerSchema.parse(m));
}

/** Reports the failure to the supervisor, then exits once the message is out (the supervisor shows it and runs nothing). */
function fatal(message: string): void {
  if (!process.connected) process.exit(70);
  process.send?.(FromBrokerSchema.parse({ type: 'fatal', message }), () => process.exit(70));
  setTimeout(() => process.exit(70), 2000).unref();
}

if (typeof process.send !== 'function') {
  process.stderr.write('cordon broker: broker-process must be started by cordon run with an IPC channel\n');
  process.exit(2);
}

async function configure(m: Extract<ToBroker, { type: 'config' }>): Promise<void> {
  const markKey = randomBytes(32);
  const held: HeldCredential[] = [];
  for (const c of m.credentials) {
    const hosts = c.hosts.map((h) => compileHost(c.name, h));
    const real = await resolveSource(c.name, c.source, process.env);
    // A short placeholder would match ordinary traffic by chance; real API keys are far longer.
    if ([...real].length < MIN_LENGTH) throw new CordonError('CORDON_BROKER', `credential ${c.name}: the value is shorter than ${MIN_LENGTH} characters, too short for its placeholder to be recognised safely in traffic`);
    held.push({ name: c.name, hosts, header: c.header, real, placeholder: makePlaceholder(real, markKey) });
  }
  const keyId = held.find((c) => c.name === 'AWS_ACCESS_KEY_ID');
  const secret = held.find((c) => c.name === 'AWS_SECRET_ACCESS_KEY');
  const aws: AwsPair | undefined = keyId !== undefined && secret !== undefined ? { keyId, secret } : undefined;
  const set = new KnownSecretSet();
  held.forEach((c, i) => {
    if ([...c.real].length >= WINDOW) set.add(`credential:${c.name}`, c.real);
    else process.stderr.write(`cordon broker: warning: credential ${c.name} is shorter than ${WINDOW} characters; it cannot be fingerprinted, so a leak of it outside the broker is not detected\n`);
    if ([...c.placeholder].length >= WINDOW) set.add(placeholderLabel(i), c.placeholder);
  });
  const known = set.matcher(Buffer.from(m.fingerprintKey, 'hex')).toJSON();
  const socket = path.join(m.socketDir, 'broker.sock');
  await startBroker({
    socketPath: socket, credentials: held, ...(aws === undefined ? {} : { aws }), ...(m.upstreamCa === undefined ? {} : { upstreamCa: m.upstreamCa }),
    publish: (event) => send({ type: 'decision', event }),
  });
  send({ type: 'ready', socket, placeholders: Object.fromEntries(held.map((c) => [c.name, c.placeholder])), known });
}

let configured = false;
process.on('disconnect', () => process.exit(0));
process.on('message', (raw: unknown) => {
  const parsed = ToBrokerSchema.safeParse(raw);
  if (!parsed.success || configured) {
    fatal('unexpected message from the supervisor');
    return;
  }
  configured = true;
  configure(parsed.data).catch((e: unknown) => fatal(e instanceof Error ? e.message : String(e)));
});
