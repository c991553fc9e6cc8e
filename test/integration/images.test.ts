import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { ImageUnavailableError, LABELS, ValidationError } from '@nodes/core';
import { docker, nodeFor, testLabels, testManager, useEngine } from '../helpers/engine.js';

const { namespace } = useEngine(test, 'images');
const SECRET = 'SECRET-REGISTRY-REPLY-7f3a';

/** A fake registry on a loopback port that counts the requests it gets and answers each with a body to keep secret. */
async function fakeRegistry(t: { teardown(fn: () => void): void }) {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(404, { 'Content-Type': 'application/json' }).end(`${SECRET} not json`);
  });
  server.on('connection', () => seen.push('connection'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return { port: (server.address() as AddressInfo).port, seen };
}

const containersOfNamespace = () => docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`] }) });

test('with an allowlist, an image on another registry is refused before the engine contacts it', async (t) => {
  const registry = await fakeRegistry(t);
  const manager = testManager(namespace, { imageAllowlist: ['docker.io/library/busybox'], pullPolicy: 'missing' });
  const before = (await containersOfNamespace()).length;
  await t.throwsAsync(manager.createNode({ image: `127.0.0.1:${registry.port}/probe/x:1`, labels: testLabels() }), {
    instanceOf: ValidationError,
    message: new RegExp(`image: "127.0.0.1:${registry.port}/probe/x" is not under the operator's image allowlist`),
  });
  await new Promise((r) => setTimeout(r, 500));
  t.deepEqual(registry.seen, []);
  t.is((await containersOfNamespace()).length, before);
  const allowed = await nodeFor(t, manager);
  t.is(allowed.state, 'running');
});

test('a failed pull answers with our reason and the engine\'s status, never the registry\'s reply', async (t) => {
  const registry = await fakeRegistry(t);
  const manager = testManager(namespace, { pullPolicy: 'missing', pullTimeoutMs: 60_000 });
  const error = await t.throwsAsync(manager.createNode({ image: `127.0.0.1:${registry.port}/probe/x:1`, labels: testLabels() }), {
    instanceOf: ImageUnavailableError,
  });
  t.log(error?.message);
  t.true(registry.seen.length > 0, 'the engine did contact the registry: the check below can fail');
  t.regex(error!.message, /could not be pulled: .* \(engine status [^)]+\)$/);
  t.false(error!.message.includes(SECRET));
  t.false(error!.message.includes('not json'));
});
