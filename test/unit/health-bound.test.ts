import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import test from 'ava';
import { createNodeManager } from '@nodes/core';
import { createApp } from '@nodes/server';

test('get_health answers within 5 s by default however long the engine stalls', async (t) => {
  t.timeout(60_000);
  const socketPath = `/tmp/nodes-test-health-stall-${randomBytes(3).toString('hex')}.sock`;
  const held: Socket[] = [];
  const stalled = createServer((socket) => held.push(socket)).listen(socketPath);
  await once(stalled, 'listening');
  t.teardown(() => {
    for (const s of held) s.destroy();
    stalled.close();
    rmSync(socketPath, { force: true });
  });
  // The engine timeout stays at its 30 s default: only the health bound can end the check sooner.
  const core = createNodeManager({ namespace: 'unit-health', dockerHost: `unix://${socketPath}` });
  const server = createHttpServer(createApp(core).callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());

  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { method: 'POST', body: '{"method":"get_health"}' });
  const elapsedMs = Date.now() - started;
  const body = (await res.json()) as { result: { health: string; duration_ms: number; reasons: Array<{ kind: string; code: string; message: string }> } };
  t.log(`get_health on a stalled engine answered in ${elapsedMs} ms`);
  t.is(res.status, 200);
  t.is(body.result.health, 'bad');
  t.like(body.result.reasons[0], { kind: 'engine', code: 'engine_unavailable' });
  t.regex(body.result.reasons[0]!.message, /did not answer the health check within 5000 ms/);
  t.true(held.length > 0, 'the check did reach the stalled engine');
  t.true(elapsedMs >= 4900 && elapsedMs < 10_000, `${elapsedMs} ms`);

  const quick = createNodeManager({ namespace: 'unit-health', dockerHost: `unix://${socketPath}`, healthTimeoutMs: 500 });
  const health = await quick.getHealth();
  t.true(health.durationMs >= 450 && health.durationMs < 5000, `${health.durationMs} ms`);
});
