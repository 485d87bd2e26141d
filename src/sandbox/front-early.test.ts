/**
 * front-early.ts on bad input: whatever arrives on the events pipe, the
 * supervisor takes no sandbox it cannot describe exactly, closes the gate (so
 * that sandbox's command can never start) and keeps neither inherited fd.
 * A real node process gets real pipes at fds 4 and 5, as from native/front.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('./front-early.ts', import.meta.url));

/** Runs takeFrontEarly in a child with `record` on its fd 5 (FIFOs, as native/front's pipes); what it printed, and whether it closed its end of the gate. */
async function take(record: Buffer, env: NodeJS.ProcessEnv = { CORDON_EARLY_FDS: '4,5' }): Promise<{ out: string; gateClosed: boolean }> {
  const script = `import(${JSON.stringify(MODULE)}).then((m) => {
    const e = m.takeFrontEarly();
    const fs = require('node:fs');
    const open = [4, 5].filter((fd) => { try { fs.fstatSync(fd); return true; } catch { return false; } });
    // Any fd of this process still on the gate (the reopened copy included).
    const onGate = fs.readdirSync('/proc/self/fd').filter((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd) === process.env.GATE_PATH; } catch { return false; } }).length;
    process.stdout.write(JSON.stringify({ early: e === null ? null : { bwrap: e.bwrap, args: e.args, base: e.dirs.base }, open, onGate, env: process.env.CORDON_EARLY_FDS ?? null }));
    if (e !== null) e.child.gate(Buffer.from('x'));
  })`;
  const dir = mkdtempSync(join(tmpdir(), 'cordon-front-early-'));
  const gatePath = join(dir, 'gate');
  const eventsPath = join(dir, 'events');
  assert.equal(spawnSync('mkfifo', [gatePath, eventsPath]).status, 0, 'mkfifo');
  const gateR = openSync(gatePath, constants.O_RDONLY | constants.O_NONBLOCK);
  const gateW = openSync(gatePath, constants.O_WRONLY | constants.O_NONBLOCK);
  const holdR = openSync(eventsPath, constants.O_RDONLY | constants.O_NONBLOCK);
  const eventsW = openSync(eventsPath, constants.O_WRONLY | constants.O_NONBLOCK);
  const eventsR = openSync(eventsPath, constants.O_RDONLY);
  closeSync(holdR);
  writeSync(eventsW, record);
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit', 'ignore', gateW, eventsR], env: { ...process.env, GATE_PATH: gatePath, ...env } });
  closeSync(gateW);
  closeSync(eventsR);
  // What was written stays in the FIFO; after it the child reads an end (as when the front is gone).
  closeSync(eventsW);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((res) => child.on('exit', res));
  // Every writer of the gate gone: a read returns 0 after what was written (EAGAIN: a writer is still there).
  let gateData = '';
  let gateClosed: boolean;
  const buf = Buffer.alloc(64);
  for (;;) {
    try {
      const n = readSync(gateR, buf, 0, buf.length, null);
      if (n === 0) {
        gateClosed = true;
        break;
      }
      gateData += buf.toString('latin1', 0, n);
    } catch {
      gateClosed = false;
      break;
    }
  }
  closeSync(gateR);
  rmSync(dir, { recursive: true, force: true });
  return { out: `${out}${gateData === '' ? '' : ` gate:${gateData}`}`, gateClosed };
}

function record(fields: readonly string[] | Buffer): Buffer {
  const body = Buffer.isBuffer(fields) ? fields : Buffer.from(`${fields.join('\u0000')}\u0000`);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length);
  return Buffer.concat([len, body]);
}

void describe('takeFrontEarly', () => {
  const bad: [string, Buffer][] = [
    ['a length over the limit', Buffer.from([0xff, 0xff, 0xff, 0x7f, 0x41])],
    ['a record cut short (the front closed its end)', Buffer.from([0x40, 0, 0, 0, 0x2f, 0x61])],
    ['bytes that are not UTF-8', record(Buffer.from([0x2f, 0x61, 0, 0x31, 0x32, 0, 0x2f, 0x62, 0, 0xff, 0xfe, 0]))],
    ['a relative directory', record(['tmp/x', '1234', '/usr/bin/bwrap', '--', 'true'])],
    ['a pid that is not one', record(['/tmp/x', '1', '/usr/bin/bwrap', '--', 'true'])],
    ['a relative bwrap', record(['/tmp/x', '1234', 'bwrap', '--', 'true'])],
    ['too few fields', record(['/tmp/x', '1234'])],
  ];
  for (const [why, rec] of bad) {
    void it(`takes nothing from ${why}, closes the gate and both inherited fds`, async () => {
      const r = await take(rec);
      const v = JSON.parse(r.out) as { early: unknown; open: number[]; onGate: number; env: string | null };
      assert.equal(v.early, null);
      assert.deepEqual(v.open, [], 'fds 4 and 5 are closed');
      assert.equal(v.onGate, 0, 'no fd on the gate is left open (its command can never start)');
      assert.equal(v.env, null, 'the variable is removed');
      assert.equal(r.gateClosed, true, 'the gate was closed without a program');
    });
  }

  void it('takes a well-formed record as written, and writes the program on the gate', async () => {
    // The record, then bwrap's end ("x0\n"), which lets the child's watch finish.
    const r = await take(Buffer.concat([record(['/tmp/cordon-abc', String(process.pid), '/usr/bin/bwrap', '--unshare-all', '--', 'true']), Buffer.from('x0\n')]));
    const [json = '', gate = ''] = r.out.split(' gate:');
    const v = JSON.parse(json) as { early: { bwrap: string; args: string[]; base: string } | null; open: number[]; onGate: number };
    assert.equal(v.onGate, 1, 'the gate is held (reopened) until the program is written');
    assert.deepEqual(v.early, { bwrap: '/usr/bin/bwrap', args: ['--unshare-all', '--', 'true'], base: '/tmp/cordon-abc' });
    assert.deepEqual(v.open, [], 'the inherited fds are closed (their reopened copies are close-on-exec)');
    assert.equal(gate, 'x', 'the program reached the gate');
    assert.equal(r.gateClosed, true);
  });

  void it('a variable naming other fds takes nothing', async () => {
    const r = await take(record(['/tmp/cordon-abc', '1234', '/usr/bin/bwrap', '--', 'true']), { CORDON_EARLY_FDS: '7,8' });
    const v = JSON.parse(r.out) as { early: unknown };
    assert.equal(v.early, null);
  });
});
