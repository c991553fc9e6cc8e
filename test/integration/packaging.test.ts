import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { createApp } from '@nodes/server';
import { testLabels, useEngine } from '../helpers/engine.js';

const run = promisify(execFile);
const { manager } = useEngine(test, 'packaging');
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

async function mapsOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.map')) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

test('the packed tarballs install in a strict ESM project, a TypeScript file using them compiles under strict and runs, and source maps point at shipped files', async (t) => {
  t.timeout(480_000);
  const dir = await mkdtemp(join(tmpdir(), 'nodes-consumer-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await run('bash', [join(ROOT, 'scripts/check-packages'), dir], { timeout: 420_000, maxBuffer: 16 * 1024 * 1024 });

  for (const pkg of ['core', 'server', 'client', 'cli']) {
    for (const map of await mapsOf(join(dir, 'node_modules/@nodes', pkg, 'dist'))) {
      const { sources } = JSON.parse(await readFile(map, 'utf8')) as { sources: string[] };
      for (const source of sources) t.true(existsSync(resolve(dirname(map), source)), `${map} -> ${source}`);
    }
  }

  const server = createServer(createApp(manager).callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const env = { ...process.env, NODES_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, NODES_TOKEN: '', CONSUMER_LABELS: JSON.stringify(testLabels()) };
  const { stdout } = await run(process.execPath, [join(dir, 'dist/consumer.js')], { env, timeout: 120_000 });
  t.is(stdout, 'from-tarball\nremoved: true; library: function; server: function\n');
  const cli = await run(join(dir, 'node_modules/.bin/nodes'), ['ls', '--json'], { env, timeout: 60_000 });
  t.true(Array.isArray(JSON.parse(cli.stdout)));
});
