import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { LABELS, NodeNotFoundError, type NodeManager, type NodesOptions } from '@nodes/core';
import { createApp } from '@nodes/server';
import {
  TEST_IMAGE,
  containersOfNode,
  docker,
  nodeFor,
  requireEngine,
  sweepNamespace,
  testLabels,
  testManager,
  testNamespace,
  useEngine,
} from '../helpers/engine.js';

const { namespace, manager } = useEngine(test, 'recovery');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A namespace of its own for one test (health and prune look at a whole namespace), swept when the test ends. */
function ownNamespace(t: ExecutionContext, options: NodesOptions = {}): { namespace: string; manager: NodeManager } {
  const ns = testNamespace(`recovery-${t.title.slice(0, 12)}`);
  t.teardown(() => sweepNamespace(ns));
  return { namespace: ns, manager: testManager(ns, options) };
}

test.before(requireEngine);

test('a new manager in the same namespace sees every node, with its spec, and can run, reset and remove them', async (t) => {
  const named = await nodeFor(t, manager, { name: `rec-${Date.now().toString(36)}`, env: { SECRET: 'hunter2' } });
  const plain = await nodeFor(t, manager);
  const fresh = testManager(namespace);

  const listed = new Map((await fresh.listNodes()).map((n) => [n.nodeId, n]));
  t.truthy(listed.get(plain.nodeId));
  const seen = listed.get(named.nodeId);
  t.is(seen?.name, named.name);
  t.deepEqual(seen?.spec.env, { SECRET: '***' });
  t.is(seen?.spec.image, undefined);
  t.is(seen?.containerId, named.containerId);

  const started = await fresh.runProcess(named.nodeId, { name: 'echo', command: 'echo "$SECRET"' });
  const ended = await fresh.waitProcess(named.nodeId, started.processId, { timeoutMs: 10_000 });
  t.is(ended.exitCode, 0);
  t.is((await fresh.getProcessOutput(named.nodeId, started.processId, 'stdout')).data, 'hunter2\n');

  const reset = await fresh.resetNode(named.nodeId);
  t.not(reset.containerId, named.containerId);
  t.is(reset.resets, 1);
  t.is((await manager.getNode(named.nodeId)).containerId, reset.containerId);

  await fresh.removeNode(plain.nodeId);
  await t.throwsAsync(manager.getNode(plain.nodeId), { instanceOf: NodeNotFoundError });
  t.deepEqual(await containersOfNode(namespace, plain.nodeId), []);
});

test('a node stopped from outside shows in health as bad, and reset_node brings it back', async (t) => {
  const own = ownNamespace(t);
  const node = await nodeFor(t, own.manager);
  t.is((await own.manager.getHealth()).health, 'good');

  await docker.getContainer(node.containerId).stop({ t: 1 });
  const bad = await own.manager.getHealth();
  t.is(bad.health, 'bad');
  t.like(bad.reasons.find((r) => r.kind === 'node'), { nodeId: node.nodeId, state: 'exited' });
  t.is((await own.manager.getNode(node.nodeId)).state, 'exited');

  const back = await own.manager.resetNode(node.nodeId);
  t.is(back.state, 'running');
  const good = await own.manager.getHealth();
  t.is(good.health, 'good');
  t.deepEqual(good.nodes, { total: 1, running: 1 });
  t.is((await containersOfNode(own.namespace, node.nodeId)).length, 1);
});

test('two namespaces on one engine never see each other\'s nodes', async (t) => {
  const other = ownNamespace(t);
  const mine = await nodeFor(t, manager);
  const theirs = await nodeFor(t, other.manager);

  t.false((await other.manager.listNodes()).some((n) => n.nodeId === mine.nodeId));
  t.false((await manager.listNodes()).some((n) => n.nodeId === theirs.nodeId));
  await t.throwsAsync(other.manager.getNode(mine.nodeId), { instanceOf: NodeNotFoundError });
  await t.throwsAsync(other.manager.removeNode(mine.nodeId), { instanceOf: NodeNotFoundError, message: `node "${mine.nodeId}" does not exist` });
  await t.throwsAsync(other.manager.resetNode(mine.nodeId), { instanceOf: NodeNotFoundError });
  await t.throwsAsync(manager.removeNode(theirs.nodeId), { instanceOf: NodeNotFoundError });
  t.is((await manager.getNode(mine.nodeId)).state, 'running');
  t.is((await other.manager.getNode(theirs.nodeId)).state, 'running');
});

test('removing a node twice: the second remove says node_not_found', async (t) => {
  const node = await nodeFor(t, manager);
  await manager.removeNode(node.nodeId);
  const error = await t.throwsAsync(manager.removeNode(node.nodeId), { instanceOf: NodeNotFoundError });
  t.is(error?.code, 'node_not_found');
});

/** Creates a container by hand, as a crashed manager or a stranger would have left it. */
async function handMade(name: string, labels: Record<string, string>, start: boolean): Promise<string> {
  const container = await docker.createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: ['sleep', '300'],
    Labels: { ...labels, ...testLabels() },
    HostConfig: { Init: true },
  });
  if (start) await container.start();
  return container.id;
}

test('prune removes leftovers (crashed reset, never started, unreadable labels) and leaves live nodes alone', async (t) => {
  const own = ownNamespace(t, { pruneGraceMs: 500 });
  const live = await nodeFor(t, own.manager, { name: 'live' });
  const other = await nodeFor(t, own.manager);
  const liveLabels = (await docker.getContainer(live.containerId).inspect()).Config.Labels;
  const base = { [LABELS.managedBy]: '@nodes', [LABELS.namespace]: own.namespace };

  const replaced = await handMade(`nodes-${own.namespace}.N.live-replaced-abc123`, liveLabels, true);
  const halfMade = await handMade(`nodes-${own.namespace}.N.half`, { ...liveLabels, [LABELS.nodeId]: 'n-0123456789ab', [LABELS.nodeName]: 'half' }, false);
  const unreadable = await handMade(`nodes-${own.namespace}.N.garbled`, { ...base, [LABELS.nodeId]: 'n-ba9876543210', [LABELS.spec]: '{not json' }, true);
  const noNodeId = await handMade(`nodes-${own.namespace}.N.anonymous`, base, false);
  // A reset that crashed after creating the new container and before starting it: the old one is still the node.
  const crashed = await nodeFor(t, own.manager, { name: 'crashed' });
  const crashedLabels = (await docker.getContainer(crashed.containerId).inspect()).Config.Labels;
  await docker.getContainer(crashed.containerId).rename({ name: `nodes-${own.namespace}.N.crashed-replaced-0a1b2c` });
  const unstarted = await handMade(`nodes-${own.namespace}.N.crashed`, crashedLabels, false);
  await sleep(600);

  // The leftover of the crashed reset does not hide the live node; the half-made one counts as a node until pruned.
  t.is((await own.manager.getNode(live.nodeId)).containerId, live.containerId);

  const server = http.createServer(createApp(own.manager).callback()).listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  await once(server, 'listening');
  const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ method: 'prune_nodes', args: {} }),
  });
  t.is(response.status, 200);
  const body = (await response.json()) as { result: { status: string; removed: Array<{ container_id: string; node_id: string | null; reason: string }> } };
  t.is(body.result.status, 'success');
  const byId = new Map(body.result.removed.map((r) => [r.container_id, r]));
  t.deepEqual(byId.get(replaced), { container_id: replaced, node_id: live.nodeId, reason: 'replaced_leftover' });
  t.deepEqual(byId.get(halfMade), { container_id: halfMade, node_id: 'n-0123456789ab', reason: 'half_made' });
  t.deepEqual(byId.get(unreadable), { container_id: unreadable, node_id: 'n-ba9876543210', reason: 'unreadable_labels' });
  t.deepEqual(byId.get(noNodeId), { container_id: noNodeId, node_id: null, reason: 'unreadable_labels' });
  t.deepEqual(byId.get(unstarted), { container_id: unstarted, node_id: crashed.nodeId, reason: 'half_made' });
  t.is(byId.size, 5);

  const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${own.namespace}`] }) });
  // The namespace's network agent (a helper, label io.nodes.role) is not a node: it stays while nodes do.
  t.deepEqual(left.filter((c) => !c.Labels[LABELS.role]).map((c) => c.Id).sort(), [live.containerId, other.containerId, crashed.containerId].sort());
  t.deepEqual((await own.manager.listNodes()).map((n) => n.state), ['running', 'running', 'running']);
  t.deepEqual((await own.manager.pruneNodes()).removed, []);
  // The crashed node is whole again after a reset, under its own name.
  const reset = await own.manager.resetNode(crashed.nodeId);
  t.is((await docker.getContainer(reset.containerId).inspect()).Name, `/nodes-${own.namespace}.N.crashed`);
  t.is((await containersOfNode(own.namespace, crashed.nodeId)).length, 1);
});

test('with idleTtlMs, prune removes idle nodes and keeps those with recent or running processes', async (t) => {
  const ttlMs = 4000;
  const own = ownNamespace(t, { idleTtlMs: ttlMs });
  const idle = await nodeFor(t, own.manager);
  const idleStartedMs = Date.parse((await docker.getContainer(idle.containerId).inspect()).State.StartedAt);
  const recent = await nodeFor(t, own.manager);
  const busy = await nodeFor(t, own.manager);
  await own.manager.runProcess(busy.nodeId, { name: 'long', command: 'sleep 120' });

  // The process directory's mtime has whole seconds: keep the recent activity well inside the TTL.
  await sleep(idleStartedMs + ttlMs - 1000 - Date.now());
  await own.manager.runProcess(recent.nodeId, { name: 'short', command: 'true' });
  await sleep(idleStartedMs + ttlMs + 500 - Date.now());

  const { removed } = await own.manager.pruneNodes();
  t.deepEqual(removed, [{ containerId: idle.containerId, nodeId: idle.nodeId, reason: 'idle' }]);
  t.deepEqual((await own.manager.listNodes()).map((n) => n.nodeId).sort(), [recent.nodeId, busy.nodeId].sort());
});
