import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { LABELS, LimitExceededError, ValidationError, type NodeManager } from '@nodes/core';
import { createApp } from '@nodes/server';
import { containersOfNode, docker, nodeFor, pooledManager, sweepNamespace, testLabels, testManager, testNamespace, useEngine } from '../helpers/engine.js';

const MiB = 1024 * 1024;
const { namespace, manager } = useEngine(test, 'limits');

/** Runs a shell line in a node as a process and waits for it: its record and stdout. */
async function run(m: NodeManager, nodeId: string, command: string, timeoutMs = 30_000) {
  const started = await m.runProcess(nodeId, { name: 'probe', path: '/', command, env: {} });
  const record = await m.waitProcess(nodeId, started.processId, { timeoutMs });
  const out = await m.getProcessOutput(nodeId, started.processId, 'stdout');
  return { record, stdout: out.data };
}

test('every node gets default memory, CPU and pids limits, no swap and no-new-privileges', async (t) => {
  const node = await nodeFor(t, manager);
  const info = await docker.getContainer(node.containerId).inspect();
  t.is(info.HostConfig.PidsLimit, 1024);
  t.is(info.HostConfig.Memory, 512 * MiB);
  t.is(info.HostConfig.MemorySwap, 512 * MiB);
  t.is(info.HostConfig.NanoCpus, 1e9);
  t.deepEqual(info.HostConfig.SecurityOpt, ['no-new-privileges']);
  const { stdout } = await run(manager, node.nodeId, 'grep NoNewPrivs /proc/self/status; id -u');
  t.regex(stdout, /NoNewPrivs:\s+1\n0\n/);
});

test('a spec sets its own limits within the operator maximums; past them it is refused and nothing is made', async (t) => {
  const node = await nodeFor(t, manager, { pidsLimit: 64, memoryBytes: 64 * MiB, nanoCpus: 500_000_000 });
  const info = await docker.getContainer(node.containerId).inspect();
  t.like(info.HostConfig, { PidsLimit: 64, Memory: 64 * MiB, MemorySwap: 64 * MiB, NanoCpus: 500_000_000 });
  t.like(node.spec, { pidsLimit: 64, memoryBytes: 64 * MiB });

  const strict = testManager(namespace, { maxPidsLimit: 100, maxMemoryBytes: 128 * MiB, defaultPidsLimit: 50, defaultMemoryBytes: 32 * MiB });
  await t.throwsAsync(strict.createNode({ pidsLimit: 101, labels: testLabels() }), { instanceOf: ValidationError, message: /pidsLimit: must be at most 100/ });
  await t.throwsAsync(strict.createNode({ memoryBytes: 129 * MiB, labels: testLabels() }), { instanceOf: ValidationError, message: /memoryBytes: must be at most 134217728/ });
  // Other tests of the file make nodes meanwhile: look for the refused specs, not at the count.
  t.deepEqual((await strict.listNodes()).filter((n) => n.spec.pidsLimit === 101 || n.spec.memoryBytes === 129 * MiB), []);
  const small = await nodeFor(t, strict);
  t.like((await docker.getContainer(small.containerId).inspect()).HostConfig, { PidsLimit: 50, Memory: 32 * MiB });
  t.throws(() => testManager(namespace, { maxPidsLimit: 100 }), { instanceOf: ValidationError, message: /defaultPidsLimit: must be at most its maximum, 100/ });
});

test('a node with a user runs processes after resets, cold and onto a warm container: its records stay its own', async (t) => {
  const spec = { user: '65534:65534', labels: testLabels() };
  const { manager: warm } = pooledManager(t, 'limits-user-reset', spec);
  for (const [how, m] of [['cold', manager], ['warm', warm]] as const) {
    const node = await nodeFor(t, m, spec);
    const first = await run(m, node.nodeId, 'id -u');
    t.is(first.stdout, '65534\n', how);
    for (let i = 0; i < 2; i++) {
      if (how === 'warm') await warm.warmUp();
      await m.resetNode(node.nodeId);
      const again = await run(m, node.nodeId, 'id -u; stat -c %u /tmp/.nodes/processes');
      t.like(again.record, { status: 'exited', exitCode: 0 }, `${how} reset ${i + 1}`);
      t.is(again.stdout, '65534\n65534\n', `${how} reset ${i + 1}: the carried records are the user's`);
    }
    t.like(await m.getProcess(node.nodeId, first.record.processId), { status: 'exited', exitCode: 0 }, 'the first record was carried');
  }
});

test('a node runs as the spec\'s user, its processes too', async (t) => {
  const node = await nodeFor(t, manager, { user: '1000:1000' });
  t.is((await docker.getContainer(node.containerId).inspect()).Config.User, '1000:1000');
  const { record, stdout } = await run(manager, node.nodeId, 'id -u; id -g; grep NoNewPrivs /proc/self/status');
  t.is(record.exitCode, 0);
  t.regex(stdout, /^1000\n1000\nNoNewPrivs:\s+1\n$/);
  await t.throwsAsync(manager.createNode({ user: 'root; rm -rf /', labels: testLabels() }), { instanceOf: ValidationError, message: /user/ });
  // A user the image does not know fails only when the engine starts the container: still the caller's mistake.
  await t.throwsAsync(manager.createNode({ user: 'nosuchuser', labels: testLabels() }), { instanceOf: ValidationError, message: /nosuchuser/ });
  // Other tests of the file make nodes meanwhile: look for this spec's container, not at the count.
  const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`] }) });
  t.deepEqual(left.filter((c) => (c.Labels[LABELS.spec] ?? '').includes('nosuchuser')), [], 'nothing is left of the refused node');
});

test('a namespace holds at most maxNodes nodes, concurrent creates included; a clear 4xx past it', async (t) => {
  const ns = testNamespace('limits-cap');
  t.teardown(() => sweepNamespace(ns));
  const capped = testManager(ns, { maxNodes: 2 });
  const results = await Promise.allSettled([0, 1, 2].map(() => capped.createNode({ labels: testLabels() })));
  const made = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  t.is(made.length, 2);
  t.is(refused.length, 1);
  t.true(refused[0]!.reason instanceof LimitExceededError);
  t.regex(refused[0]!.reason.message, /namespace "test-limits-cap-[0-9a-f]+" holds its maximum of 2 nodes/);
  t.is((await capped.listNodes()).length, 2);

  const server = createServer(createApp(capped).callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
    method: 'POST',
    body: JSON.stringify({ method: 'create_node', args: { labels: testLabels() } }),
  });
  t.is(res.status, 429);
  t.like(await res.json(), { result: { status: 'failed', message: 'node failed to start', error: { code: 'limit_exceeded' } } });

  await capped.removeNode((made[0] as PromiseFulfilledResult<{ nodeId: string }>).value.nodeId);
  const again = await capped.createNode({ labels: testLabels() });
  t.is(again.state, 'running');
});

test('a fork bomb and a memory hog in one node leave the server and the other nodes answering', async (t) => {
  t.timeout(180_000);
  // Small limits and short runs: the machine is shared.
  const hostile = await nodeFor(t, manager, { pidsLimit: 64, memoryBytes: 32 * MiB, nanoCpus: 500_000_000 });
  const quiet = await nodeFor(t, manager);
  const server = createServer(createApp(manager).callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const call = async (method: string, args: Record<string, unknown> = {}) => {
    const started = Date.now();
    const res = await fetch(url, { method: 'POST', body: JSON.stringify({ method, args }), headers: { 'content-type': 'application/json' } });
    return { status: res.status, body: (await res.json()) as { result: Record<string, any> }, ms: Date.now() - started };
  };
  const baseline = await call('get_health');

  const hog = await manager.runProcess(hostile.nodeId, { name: 'hog', path: '/', command: 'dd if=/dev/zero of=/dev/null bs=256M count=1', env: {} });
  const hogged = await manager.waitProcess(hostile.nodeId, hog.processId, { timeoutMs: 60_000 });
  t.is(hogged.exitCode, 137, 'the OOM killer ended the hog inside its 32 MiB');

  await manager.runProcess(hostile.nodeId, { name: 'bomb', path: '/', command: 'sleep 1; b() { b & b & exec sleep 60; }; b', env: {} });
  // While the bomb runs: the server and another node answer.
  const during = (async () => {
    await new Promise((r) => setTimeout(r, 1500));
    const health = await call('get_health');
    const started = await call('run_process_on_node', { node_id: quiet.nodeId, config: { name: 'alive', path: '/', command: 'echo alive' } });
    const waited = await call('wait_process', { node_id: quiet.nodeId, process_id: started.body.result.process_id, timeout_ms: 30_000 });
    return { health, started, waited };
  })();
  // Every bomb process forks two more, then becomes a sleep (no fork needed): the node fills up to its limit and
  // stays there until the node is removed. Sample its pids meanwhile.
  let peak = 0;
  for (const until = Date.now() + 15_000; Date.now() < until && peak < 48; ) {
    const stats = (await docker.getContainer(hostile.containerId).stats({ stream: false, 'one-shot': true } as {})) as { pids_stats?: { current?: number } };
    peak = Math.max(peak, stats.pids_stats?.current ?? 0);
    await new Promise((r) => setTimeout(r, 100));
  }
  t.log(`peak pids in the bombed node: ${peak} (limit 64)`);
  t.true(peak >= 48 && peak <= 64, `peak ${peak}`);

  const { health, started, waited } = await during;
  t.is(health.status, 200);
  t.is(started.status, 200);
  t.like(waited.body.result, { status: 'success', process: { status: 'exited', exit_code: 0 } });
  t.log(`get_health: ${baseline.ms} ms before, ${health.ms} ms during the bomb; a process on another node: start ${started.ms} ms, wait ${waited.ms} ms`);

  const removed = await call('remove_node', { node_id: hostile.nodeId });
  t.is(removed.status, 200);
  t.deepEqual(await containersOfNode(namespace, hostile.nodeId), []);
});
