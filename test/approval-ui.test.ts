/**
 * `cordon ui` in real headless Chromium (Debian `chromium`, driven by
 * playwright-core): a request held by `cordon run` appears on the page, a
 * click approves it, and the waiting request reaches the upstream. Also: no
 * token, a foreign Host (DNS rebinding) or a foreign Origin is refused.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { cordonAsync } from './cli-helpers.js';
import { httpUpstream, type Upstream } from './egress/helpers.js';
import { approvalWorld, post, runSkip, waitPending } from './approval-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = runSkip !== false ? runSkip : existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium; scripts/setup.sh installs it)`;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

function get(port: number, pathAndQuery: string, headers: Record<string, string> = {}, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathAndQuery, method, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

void describe('cordon ui in headless Chromium', { skip }, () => {
  let up: Upstream;
  before(async () => {
    up = await httpUpstream();
  });
  after(async () => {
    await up.close();
  });

  void it('shows the held request; a click approves it and the request proceeds', async () => {
    const { chromium } = await import('playwright-core');
    const w = approvalWorld(up.port, '60s');
    const run = cordonAsync(['run', '--', 'sh', '-c', post('viaui', up.port, 'from-the-sandbox\u200b')], w.ws, w.env);
    const urlFile = path.join(w.root, 'ui-url');
    const ui = cordonAsync(['ui', '--open-url-file', urlFile], w.ws, w.env);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const [p] = await waitPending(w.dir);
      assert.ok(p);
      let url: string | undefined;
      for (let i = 0; i < 200 && url === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const text = existsSync(urlFile) ? readFileSync(urlFile, 'utf8').trim() : '';
        if (/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/.test(text)) url = text;
      }
      assert.ok(url, 'cordon ui printed its URL');
      const port = Number(new URL(url).port);
      // Refusals: no token, wrong token, a foreign Host (DNS rebinding), a foreign Origin on an answer.
      assert.equal(await get(port, '/'), 401);
      assert.equal(await get(port, '/?token=wrong'), 401);
      const token = new URL(url).searchParams.get('token') ?? '';
      assert.equal(await get(port, `/?token=${token}`, { host: `rebind.example:${port}` }), 421);
      assert.equal(await get(port, '/api/answer', { 'x-cordon-token': token, origin: 'http://evil.example', 'content-type': 'application/json' }, 'POST'), 403);
      assert.deepEqual(up.seen.filter((s) => s.startsWith('POST')), [], 'nothing sent while waiting');

      const page = await browser.newPage();
      await page.goto(url);
      const card = page.locator(`#approval-${p.id}`);
      await card.waitFor({ timeout: 15_000 });
      const text = await card.innerText();
      assert.match(text, /\/upload/);
      assert.match(text, /from-the-sandbox\\u\{200B\}/, 'a zero-width character is shown, not hidden');
      assert.match(text, new RegExp(p.hash));
      await page.click(`#approve-${p.id}`);
      const r = await run.done;
      assert.match(r.stdout, /^viaui=200$/m, r.stdout + r.stderr);
      assert.equal(up.seen.filter((s) => s.startsWith('POST /upload')).length, 1);
      await page.locator(`#approval-${p.id}`).waitFor({ state: 'detached', timeout: 10_000 });
    } finally {
      await browser.close();
      ui.child.kill('SIGTERM');
      await ui.done;
      run.child.kill('SIGTERM');
    }
  });
});

