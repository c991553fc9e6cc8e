import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { chromium, type BrowserContext } from 'playwright-core';
import { createApp } from '@nodes/server';
import { testLabels, useEngine } from '../helpers/engine.js';

const { manager } = useEngine(test, 'dashboard');
const CHROMIUM = process.env.NODES_CHROMIUM ?? '/usr/bin/chromium';
const server = createServer(createApp(manager, { access: { token: 'ui-token' } }).callback());
let url = '';
let browser: BrowserContext | undefined;
let profile = '';

test.before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  profile = await mkdtemp(join(tmpdir(), 'nodes-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
test.after.always(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  server.closeAllConnections();
  server.close();
});

test.serial('from the page: create a node, run echo hello and see hello live, reset it, remove it', async (t) => {
  const page = await browser!.newPage();
  // The machine is shared and slow at times: actions wait up to a minute.
  page.setDefaultTimeout(60_000);
  const failures: string[] = [];
  page.on('pageerror', (e) => failures.push(e.message));
  await page.goto(`${url}/ui`);
  // The server has a token: the page is served without it and asks for it.
  await page.fill('#token', 'ui-token');
  await page.dispatchEvent('#token', 'change');
  await page.locator('#health', { hasText: 'good' }).waitFor();

  const labels = Object.entries(testLabels()).map(([k, v]) => `${k}=${v}`).join(',');
  await page.fill('#create input[name=name]', 'from-page');
  await page.fill('#create input[name=labels]', labels);
  await page.click('#create button[type=submit]');
  const row = page.locator('#nodes tr', { hasText: 'from-page' });
  await row.waitFor({ timeout: 60_000 });
  const nodeId = (await row.getAttribute('data-node-id'))!;
  t.teardown(() => manager.removeNode(nodeId).catch(() => undefined));
  // The list refreshes every 3 s: a refresh during the create may show it `created` first.
  await row.filter({ hasText: /running\s*good/ }).waitFor({ timeout: 30_000 });
  const before = await manager.getNode(nodeId);

  await page.fill('#run input[name=command]', 'echo hello; sleep 1; echo bye >&2');
  await page.click('#run button[type=submit]');
  await page.locator('#output .stdout', { hasText: 'hello' }).waitFor({ timeout: 30_000 });
  await page.locator('#status', { hasText: 'exited (exit code 0)' }).waitFor({ timeout: 30_000 });
  t.is(await page.locator('#output .stderr').innerText(), 'bye\n');
  await page.screenshot({ path: join(tmpdir(), 'nodes-dashboard.png'), fullPage: true });

  await row.locator('button', { hasText: 'Reset' }).click();
  await page.locator('#nodes tr', { hasText: 'from-page' }).locator('td').nth(5).filter({ hasText: '1' }).waitFor({ timeout: 60_000 });
  const after = await manager.getNode(nodeId);
  t.is(after.resets, 1);
  t.not(after.containerId, before.containerId);

  await page.locator('#nodes tr', { hasText: 'from-page' }).locator('button', { hasText: 'Remove' }).click();
  await page.locator('#nodes tr', { hasText: 'from-page' }).waitFor({ state: 'detached', timeout: 60_000 });
  t.false((await manager.listNodes()).some((n) => n.nodeId === nodeId));
  t.deepEqual(failures, []);
  t.is(await page.locator('#error').innerText(), '');
});

test('the page and its script are served with a strict Content-Security-Policy; the API still needs the token', async (t) => {
  const page = await fetch(`${url}/ui`);
  t.is(page.status, 200);
  t.regex(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  t.regex(await page.text(), /<script type="module" src="\/ui\/app.js">/);
  t.is((await fetch(`${url}/ui/app.js`)).status, 200);
  t.is((await fetch(`${url}/`, { method: 'POST', body: '{"method":"list_nodes"}' })).status, 401);
});

test.serial('the page resumes a dropped output stream with Last-Event-ID, losing and repeating nothing', async (t) => {
  // A proxy in front of the server that drops the first log stream after its first output event.
  const target = new URL(url);
  const lastEventIds: Array<string | undefined> = [];
  let cut = false;
  const proxy = createServer((req, res) => {
    const logs = req.url?.includes('/logs') ?? false;
    if (logs) lastEventIds.push(req.headers['last-event-id'] as string | undefined);
    const headers = { ...req.headers, host: target.host, ...(req.headers.origin ? { origin: target.origin } : {}) };
    const upstream = httpRequest(`${url}${req.url}`, { method: req.method, headers }, (up: IncomingMessage) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      let cutting = false;
      up.on('data', (chunk: Buffer) => {
        if (cutting) return;
        res.write(chunk);
        if (logs && !cut && chunk.includes('event: stdout')) {
          cut = cutting = true;
          setTimeout(() => {
            res.destroy();
            up.destroy();
          }, 200);
        }
      });
      up.on('end', () => res.end());
    });
    req.pipe(upstream);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  t.teardown(() => {
    proxy.closeAllConnections();
    proxy.close();
  });
  const node = await manager.createNode({ name: 'resumed', labels: testLabels() });
  t.teardown(() => manager.removeNode(node.nodeId).catch(() => undefined));

  const page = await browser!.newPage();
  page.setDefaultTimeout(60_000);
  await page.goto(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}/ui`);
  await page.fill('#token', 'ui-token');
  await page.dispatchEvent('#token', 'change');
  await page.locator('#nodes tr', { hasText: 'resumed' }).locator('button', { hasText: 'Open' }).click();
  await page.fill('#run input[name=command]', 'for i in 1 2 3 4 5; do echo line $i; sleep 0.4; done');
  await page.click('#run button[type=submit]');
  await page.locator('#status', { hasText: 'exited (exit code 0)' }).waitFor({ timeout: 60_000 });
  t.is(await page.locator('#output .stdout').allInnerTexts().then((parts) => parts.join('')), 'line 1\nline 2\nline 3\nline 4\nline 5\n');
  t.true(cut);
  t.is(lastEventIds[0], undefined);
  t.regex(lastEventIds[1] ?? '', /^\d+,\d+$/);
});
