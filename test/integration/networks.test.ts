import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { createApp } from '@nodes/server';
import { LABELS, NodeNotFoundError, ValidationError, type NodeInfo } from '@nodes/core';
import { docker, execIn, networksOfNamespace, nodeFor, testLabels, testManager, useEngine } from '../helpers/engine.js';

const { namespace, manager } = useEngine(test, 'networks');
const other = testManager(`${namespace}-other`);

/** Exit code of one ping from inside a node (`-W 2`: a peer that is unreachable costs two seconds). */
const ping = async (containerId: string, target: string) => (await execIn(containerId, ['ping', '-c', '1', '-W', '2', target])).exitCode;

test('nodes of a namespace reach each other by name and node id, and no node of another namespace', async (t) => {
  const [alpha, beta, gamma] = (await Promise.all(['alpha', 'beta', 'gamma'].map((name) => nodeFor(t, manager, { name })))) as [NodeInfo, NodeInfo, NodeInfo];
  const stranger = await nodeFor(t, other, { name: 'stranger' });
  for (const from of [alpha, beta, gamma]) {
    for (const to of [alpha, beta, gamma]) {
      t.is(await ping(from.containerId, to.name!), 0, `${from.name} -> ${to.name} by name`);
    }
  }
  t.is(await ping(alpha.containerId, gamma.nodeId), 0, 'by node id');
  t.not(await ping(alpha.containerId, 'stranger'), 0, 'another namespace\'s name does not resolve');
  const strangerIp = (await other.getNode(stranger.nodeId)).networks[0]!.ipAddress;
  t.regex(strangerIp, /^\d+\.\d+\.\d+\.\d+$/);
  t.not(await ping(alpha.containerId, strangerIp), 0, 'nor its address answer');
  t.not(await ping(stranger.containerId, (await manager.getNode('alpha')).networks[0]!.ipAddress), 0, 'nor the other way');
});

test('a node is on its namespace\'s network only, not Docker\'s default bridge, with its name and id as aliases', async (t) => {
  const node = await nodeFor(t, manager, { name: 'solo' });
  const info = await manager.getNode(node.nodeId);
  t.is(info.networks.length, 1);
  const [net] = info.networks;
  t.is(net!.network, 'default');
  t.deepEqual(net!.aliases, ['solo', node.nodeId]);
  const inspect = await docker.getContainer(node.containerId).inspect();
  t.deepEqual(Object.keys(inspect.NetworkSettings.Networks), [net!.dockerNetwork]);
  t.is(inspect.NetworkSettings.Networks[net!.dockerNetwork]!.IPAddress, net!.ipAddress);
  const [engineNet] = (await networksOfNamespace(namespace)).filter((n) => n.Name === net!.dockerNetwork);
  t.is(engineNet?.Labels?.[LABELS.managedBy], '@nodes');
  t.is(engineNet?.Labels?.[LABELS.network], 'default');
});

test('extra networks are made on demand per namespace; only nodes on a segment reach each other there', async (t) => {
  const front = await nodeFor(t, manager, { name: 'front', networks: ['backend'] });
  const db = await nodeFor(t, manager, { name: 'db', networks: ['backend', 'storage'] });
  const frontInfo = await manager.getNode('front');
  const dbInfo = await manager.getNode('db');
  t.deepEqual(frontInfo.networks.map((n) => n.network), ['default', 'backend']);
  t.deepEqual(dbInfo.networks.map((n) => n.network), ['default', 'backend', 'storage']);
  const segments = (await networksOfNamespace(namespace)).map((n) => n.Labels?.[LABELS.network]);
  t.true(segments.includes('backend') && segments.includes('storage'));
  const dbOnStorage = dbInfo.networks.find((n) => n.network === 'storage')!.ipAddress;
  const dbOnBackend = dbInfo.networks.find((n) => n.network === 'backend')!.ipAddress;
  t.is(await ping(front.containerId, dbOnBackend), 0, 'a shared segment');
  t.not(await ping(front.containerId, dbOnStorage), 0, 'a segment front is not on');
  await t.throwsAsync(manager.createNode({ networks: ['Bad_Name'] }), { instanceOf: ValidationError, message: /networks/ });
  t.truthy(db);
});

test('a reset keeps networks, aliases and addresses; peers reach the node again by name', async (t) => {
  const node = await nodeFor(t, manager, { name: 'phoenix', networks: ['backend'] });
  const peer = await nodeFor(t, manager, { name: 'watcher' });
  const before = await manager.getNode(node.nodeId);
  let after = before;
  for (let i = 0; i < 3; i++) after = await manager.resetNode('phoenix');
  t.not(after.containerId, before.containerId);
  t.deepEqual(after.networks, before.networks);
  t.is(await ping(peer.containerId, 'phoenix'), 0);
});

test('a node name is accepted wherever a node id is', async (t) => {
  const node = await nodeFor(t, manager, { name: 'named' });
  t.is((await manager.getNode('named')).nodeId, node.nodeId);
  const p = await manager.runProcess('named', { name: 'hello', command: 'echo hi' });
  t.is((await manager.waitProcess('named', p.processId, { timeoutMs: 10_000 })).exitCode, 0);
  t.is((await manager.getProcessLogs('named', p.processId)).stdout.data, 'hi\n');
  await t.throwsAsync(manager.getNode('nobody'), { instanceOf: NodeNotFoundError, message: 'node "nobody" does not exist' });
  await t.throwsAsync(manager.getNode('Not A Name'), { instanceOf: ValidationError, message: /node id .* or a node name/ });
  await manager.removeNode('named');
  await t.throwsAsync(manager.getNode(node.nodeId), { instanceOf: NodeNotFoundError });
});

test('prune removes the namespace\'s networks once no node uses them, and keeps those in use', async (t) => {
  const own = testManager(`${namespace}-prune`);
  const keep = await nodeFor(t, own, { name: 'keep' });
  const gone = await own.createNode({ name: 'gone', networks: ['side'], labels: testLabels() });
  await own.removeNode(gone.nodeId);
  const result = await own.pruneNodes();
  t.deepEqual(result.networks.length, 1);
  t.regex(result.networks[0]!, /-side-/);
  const left = (await networksOfNamespace(`${namespace}-prune`)).map((n) => n.Labels?.[LABELS.network]);
  t.deepEqual(left, ['default']);
  await own.removeNode(keep.nodeId);
  t.deepEqual((await own.pruneNodes()).networks.length, 1);
  t.deepEqual(await networksOfNamespace(`${namespace}-prune`), []);
});

test('over HTTP too, a node name stands for its id: in methods and in the SSE logs route', async (t) => {
  const server = createServer(createApp(manager).callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const node = await nodeFor(t, manager, { name: 'speaker' });
  const call = async (method: string, args: Record<string, unknown>) =>
    ((await (await fetch(url, { method: 'POST', body: JSON.stringify({ method, args }), headers: { 'content-type': 'application/json' } })).json()) as { result: Record<string, any> }).result;
  const run = await call('run_process_on_node', { node_id: 'speaker', config: { command: 'echo said-by-name' } });
  t.is(run.node_id, node.nodeId);
  await call('wait_process', { node_id: 'speaker', process_id: run.process_id, timeout_ms: 10_000 });
  const sse = await (await fetch(`${url}nodes/speaker/processes/${run.process_id}/logs`)).text();
  t.regex(sse, /said-by-name/);
  t.like(await call('get_node', { node_id: 'speaker' }), { status: 'success', node_id: node.nodeId });
  t.like(await call('remove_node', { node_id: 'speaker' }), { status: 'success', node_id: node.nodeId });
});
