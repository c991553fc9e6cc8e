import test, { type ExecutionContext } from 'ava';
import { LABELS, type NodeManager, type NodesOptions } from '@nodes/core';
import { docker, execIn, pooledManager, requireEngine, testLabels, testManager } from '../helpers/engine.js';

test.before(requireEngine);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A namespace of its own with a warm pool of `size` for the test-labelled spec, swept after the test. */
function pooled(t: ExecutionContext, size: number, options: NodesOptions = {}): { namespace: string; manager: NodeManager; spec: { labels: Record<string, string> } } {
  const spec = { labels: testLabels() };
  return { ...pooledManager(t, `pool-${t.title.slice(0, 12)}`, spec, size, options), spec };
}

/** The namespace's containers as the engine lists them, by what their names say. */
async function containersOf(namespace: string) {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`] }) });
  const kind = (c: (typeof list)[number]) => /\.([PRKC])\.n-/.exec(c.Names[0] ?? '')?.[1];
  return {
    all: list,
    pooled: list.filter((c) => kind(c) === 'P'),
    /** warm and off the networks, for resets */
    ready: list.filter((c) => kind(c) === 'R'),
    claiming: list.filter((c) => kind(c) === 'K'),
  };
}

test('a create claims a warm container: the node id is its hostname and DNS alias, and pooled containers are never nodes', async (t) => {
  const { namespace, manager, spec } = pooled(t, 2);
  await manager.warmUp();
  const before = await containersOf(namespace);
  t.is(before.pooled.length, 2);
  t.deepEqual(await manager.listNodes(), [], 'warm containers are not listed as nodes');
  t.like((await manager.getHealth()).nodes, { total: 0 });

  const node = await manager.createNode(spec);
  t.true(before.pooled.some((c) => c.Id === node.containerId), 'the node is one of the warm containers');
  t.like(node, { state: 'running', resets: 0, namespace });
  t.deepEqual(node.networks[0]?.aliases, [node.nodeId]);
  t.is((await execIn(node.containerId, ['hostname'])).stdout.trim(), node.nodeId);

  const listed = await manager.listNodes();
  t.deepEqual(listed.map((n) => n.nodeId), [node.nodeId]);
  t.like((await manager.getHealth()).nodes, { total: 1, running: 1 });
  const run = await manager.runProcess(node.nodeId, { command: 'echo warm' });
  t.is((await manager.waitProcess(node.nodeId, run.processId, { timeoutMs: 20_000 })).exitCode, 0);

  // Another manager (a restart) sees the same node with the same record, read from the engine alone.
  const again = testManager(namespace);
  t.like(await again.getNode(node.nodeId), { nodeId: node.nodeId, createdAt: node.createdAt, resets: 0, containerId: node.containerId });
  // Specs with a name or env are made cold.
  const named = await manager.createNode({ ...spec, name: 'cold-one' });
  t.false(before.pooled.some((c) => c.Id === named.containerId));
  t.is((await execIn(named.containerId, ['hostname'])).stdout.trim(), 'cold-one');
});

test('a reset moves the node onto a warm container: same node id, address, aliases, records and created_at; the old one goes', async (t) => {
  const { namespace, manager, spec } = pooled(t, 1);
  const node = await manager.createNode({ ...spec, workingDir: '/tmp' });
  await manager.warmUp();
  const { pooled: onNetworks, ready } = await containersOf(namespace);
  const warm = [...onNetworks, ...ready].map((c) => c.Id);
  t.is(warm.length, 2);
  const done = await manager.runProcess(node.nodeId, { command: 'echo kept' });
  await manager.waitProcess(node.nodeId, done.processId, { timeoutMs: 20_000 });
  const running = await manager.runProcess(node.nodeId, { command: 'sleep 600' });
  await execIn(node.containerId, ['sh', '-c', 'echo before > /root/marker']);

  const reset = await manager.resetNode(node.nodeId);
  t.is(warm.includes(reset.containerId) ? 'warm' : 'cold', 'cold', 'a spec not pooled (working_dir) resets cold');

  // Now a node of the pooled spec.
  const pooledNode = await manager.createNode(spec);
  await manager.warmUp();
  const warmNow = (await containersOf(namespace)).ready.map((c) => c.Id);
  t.is(warmNow.length, 1, 'one warm container is kept off the networks for resets');
  t.deepEqual((await docker.getContainer(warmNow[0]!).inspect()).NetworkSettings.Networks, {});
  const before = await manager.getNode(pooledNode.nodeId);
  const kept = await manager.runProcess(pooledNode.nodeId, { command: 'echo kept' });
  await manager.waitProcess(pooledNode.nodeId, kept.processId, { timeoutMs: 20_000 });
  const lost = await manager.runProcess(pooledNode.nodeId, { command: 'sleep 600' });
  await execIn(pooledNode.containerId, ['sh', '-c', 'echo before > /root/marker']);
  const after = await manager.resetNode(pooledNode.nodeId);
  t.true(warmNow.includes(after.containerId), 'the node moved onto the warm container kept off the networks');
  t.like(after, { nodeId: pooledNode.nodeId, createdAt: pooledNode.createdAt, resets: 1 });
  t.truthy(after.resetAt);
  t.deepEqual(after.networks.map((n) => [n.ipAddress, n.aliases]), before.networks.map((n) => [n.ipAddress, [pooledNode.nodeId]]));
  t.is((await execIn(after.containerId, ['cat', '/root/marker'])).exitCode, 1, 'a fresh filesystem');
  // On eth1 (README, "Warm nodes"): the warm container had an eth0 before it left the networks.
  const addresses = await execIn(after.containerId, ['ip', '-o', '-4', 'addr']);
  t.regex(addresses.stdout, new RegExp(`eth1 +inet ${before.networks[0]!.ipAddress.replaceAll('.', '\\.')}/`), addresses.stdout);
  t.like(await manager.getProcess(pooledNode.nodeId, kept.processId), { status: 'exited', exitCode: 0 });
  t.like(await manager.getProcess(pooledNode.nodeId, lost.processId), { status: 'lost', exitCode: 137 });
  t.is((await manager.getProcessOutput(pooledNode.nodeId, kept.processId, 'stdout')).data, 'kept\n');
  for (let i = 0; i < 100 && (await docker.getContainer(pooledNode.containerId).inspect().then(() => true, () => false)); i++) await sleep(100);
  t.false(await docker.getContainer(pooledNode.containerId).inspect().then(() => true, () => false), 'the old container is removed after the answer');
  // A second reset, and a restarted manager, keep the history.
  await manager.warmUp();
  const twice = await manager.resetNode(pooledNode.nodeId);
  t.like(await testManager(namespace).getNode(pooledNode.nodeId), { createdAt: pooledNode.createdAt, resets: 2, resetAt: twice.resetAt, containerId: twice.containerId });
  t.is(running.status, 'running');
});

test('claims race between two managers: every warm container becomes at most one node, every node is usable', async (t) => {
  const { namespace, manager: first, spec } = pooled(t, 4);
  await first.warmUp();
  // The second manager adopts the same warm containers at its start (its sweep), so both race for them.
  const second = testManager(namespace, { poolSize: 4, poolSpecs: [spec] });
  t.teardown(() => second.close());
  await sleep(300);
  await second.pruneNodes();
  const warm = new Set((await containersOf(namespace)).pooled.map((c) => c.Id));
  t.true(warm.size >= 4);
  const made = await Promise.all([...Array(6).keys()].flatMap(() => [first.createNode(spec), second.createNode(spec)]));
  const ids = new Set(made.map((n) => n.nodeId));
  const containers = new Set(made.map((n) => n.containerId));
  t.is(ids.size, 12, 'twelve distinct nodes');
  t.is(containers.size, 12, 'no container backs two nodes');
  t.true(made.filter((n) => warm.has(n.containerId)).length >= 4, 'the warm containers were claimed');
  const listed = await second.listNodes();
  t.deepEqual(listed.map((n) => n.nodeId).sort(), [...ids].sort());
  for (const node of made) {
    const run = await first.runProcess(node.nodeId, { command: 'true' });
    t.is((await first.waitProcess(node.nodeId, run.processId, { timeoutMs: 20_000 })).exitCode, 0);
  }
});

test('prune sweeps stale, unwanted and excess warm containers and leaves exactly the pool size', async (t) => {
  const { namespace, manager, spec } = pooled(t, 2);
  await manager.warmUp();
  const [one] = (await containersOf(namespace)).pooled;
  const labels = (await docker.getContainer(one!.Id).inspect()).Config.Labels;
  const make = async (id: string, extra: Record<string, string>, start: boolean) => {
    const c = await docker.createContainer({ name: `nodes-${namespace}.P.${id}`, Image: 'busybox:latest', Cmd: ['sleep', '600'], Labels: { ...labels, ...extra } });
    if (start) await c.start();
    return c.id;
  };
  const neverStarted = await make('n-00000000aaaa', {}, false);
  const excess = await make('n-00000000bbbb', {}, true);
  // A second one kept for resets is one too many.
  const excessReady = (await docker.createContainer({ name: `nodes-${namespace}.R.n-00000000dddd`, Image: 'busybox:latest', Cmd: ['sleep', '600'], Labels: labels })).id;
  await docker.getContainer(excessReady).start();
  const unwanted = await make('n-00000000cccc', { [LABELS.pool]: 'ffffffffffffffffffffffff' }, true);
  const { removed } = await manager.pruneNodes();
  const gone = new Set(removed.filter((r) => r.reason === 'pool_stale').map((r) => r.containerId));
  t.true(gone.has(neverStarted) && gone.has(unwanted), 'the never-started and unwanted ones are swept');
  const left = await containersOf(namespace);
  t.is(left.pooled.length, 2, 'exactly the pool size is left');
  t.true(left.pooled.every((c) => c.State === 'running'));
  t.true(gone.has(excess) || left.pooled.some((c) => c.Id === excess));
  t.is(left.ready.length, 1, 'and exactly one kept for resets');
  t.true(gone.has(excessReady) || left.ready.some((c) => c.Id === excessReady));
  t.deepEqual(await manager.listNodes(), []);
  // Pool size 0 turns the pool off: its prune sweeps every warm container.
  const off = testManager(namespace, { poolSize: 0, poolSpecs: [spec] });
  await off.pruneNodes();
  t.is((await containersOf(namespace)).pooled.length, 0);
  t.is((await containersOf(namespace)).ready.length, 0);
});

test('a reset onto a warm container carries a partition; a node never faulted has no fault mark and its reset reads no faults; marks go with their node', async (t) => {
  const { namespace, manager, spec } = pooled(t, 2);
  const [a, b] = [await manager.createNode(spec), await manager.createNode(spec)];
  await manager.warmUp();
  const [agent] = await docker.listContainers({ filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`, `${LABELS.role}=agent`] }) });
  t.truthy(agent, 'the namespace has its network agent (host guard)');
  const marks = async () =>
    (await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`, `${LABELS.role}=faults`] }) })).map((c) => c.Labels[LABELS.faultsOf]).sort();
  /** Agent execs while `fn` runs, from the engine's event stream. */
  const agentExecs = async (fn: () => Promise<unknown>) => {
    const events = (await docker.getEvents({ filters: JSON.stringify({ event: ['exec_create'], container: [agent!.Id] }) })) as NodeJS.ReadableStream & { destroy(): void };
    let count = 0;
    events.on('data', (chunk: Buffer) => (count += chunk.toString().split('\n').filter((l) => l.trim() !== '').length));
    await sleep(100);
    await fn();
    await sleep(300);
    events.destroy();
    return count;
  };
  const ping = async (from: string, to: string) => (await execIn((await manager.getNode(from)).containerId, ['ping', '-c', '1', '-W', '1', to])).exitCode;

  t.is(await agentExecs(() => manager.resetNode(b.nodeId)), 0, 'an unmarked node is reset without reading faults');
  t.deepEqual(await marks(), []);
  t.deepEqual((await manager.getNode(b.nodeId)).faults, { partitionedFrom: [] }, 'and shows none, without reading');

  await manager.partitionNodes({ groups: [[a.nodeId], [b.nodeId]] });
  t.deepEqual(await marks(), [a.nodeId, b.nodeId].sort(), 'partitioned nodes are marked');
  const [mark] = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.faultsOf}=${a.nodeId}`] }) });
  t.like(mark?.Labels, spec.labels, "a mark carries its node's own labels (a test run's, here)");
  t.not(await ping(b.nodeId, a.nodeId), 0);
  await manager.warmUp();
  const warm = (await containersOf(namespace)).ready.map((c) => c.Id);
  let reset: Awaited<ReturnType<NodeManager['resetNode']>> | undefined;
  t.true((await agentExecs(async () => (reset = await manager.resetNode(b.nodeId)))) > 0, 'a marked node has its faults read');
  t.true(warm.includes(reset!.containerId), 'onto a warm container');
  t.not(await ping(b.nodeId, a.nodeId), 0, 'the partition holds after the reset');
  t.deepEqual((await manager.getNode(b.nodeId)).faults?.partitionedFrom, [a.nodeId]);

  await manager.removeNode(a.nodeId);
  t.deepEqual(await marks(), [b.nodeId], 'a removed node takes its mark along');
  // A node removed behind the manager's back leaves its mark to prune.
  await docker.getContainer(reset!.containerId).remove({ force: true });
  const pruned = await manager.pruneNodes();
  t.deepEqual(await marks(), []);
  t.true(pruned.removed.some((r) => r.reason === 'unused_helper'));
});
