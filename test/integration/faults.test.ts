import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { LABELS, WrongStateError, type NodeInfo } from '@nodes/core';
import { TEST_IMAGE, docker, execIn, networksOfNamespace, nodeFor, pooledManager, testLabels, testManager, useEngine } from '../helpers/engine.js';

const { namespace, manager } = useEngine(test, 'faults');
const MAIN = fileURLToPath(new URL('../../../packages/server/dist/main.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The lab image (`scripts/ensure-image --lab`): curl, where busybox's static wget crashes. */
const LAB_IMAGE = 'nodes-lab:latest';

/** Exit code of pings from one node's container to another node (by name), each waiting 1 s at most. */
const ping = async (containerId: string, target: string) => (await execIn(containerId, ['ping', '-c', '2', '-W', '1', target])).exitCode;

/** The round-trip times (ms) of three pings from inside a node. */
async function pingTimes(containerId: string, target: string): Promise<number[]> {
  const { stdout } = await execIn(containerId, ['ping', '-c', '3', target]);
  return [...stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
}

const servers = new Set<ChildProcess>();
test.after.always(() => {
  for (const s of servers) s.kill('SIGKILL');
});

async function rpc(port: number, method: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method, args }) });
  const body = (await res.json()) as { result: Record<string, any> };
  if (body.result.status !== 'success') throw new Error(`${method}: ${JSON.stringify(body.result.error)}`);
  return body.result;
}

/** Runs the real server (`packages/server/dist/main.js`) on a free loopback port in the namespace. */
async function startServer(ns: string): Promise<{ child: ChildProcess; port: number }> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  const env = { ...process.env, NODES_PORT: String(port), NODES_HOST: '127.0.0.1', NODES_NAMESPACE: ns, NODES_DEFAULT_IMAGE: TEST_IMAGE, NODES_PULL_POLICY: 'never', NODES_LOG_LEVEL: 'warn',
    // No warm pool: its containers would keep using the namespace's network after the last node goes.
    NODES_POOL_SIZE: '0' };
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  servers.add(child);
  child.once('exit', () => servers.delete(child));
  for (const deadline = Date.now() + 20_000; ; await sleep(100)) {
    try {
      await rpc(port, 'list_nodes');
      return { child, port };
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) throw error;
    }
  }
}

test('partition [a,b] | [c] cuts a-c and b-c while a-b talks; it survives a SIGKILLed server and a reset of c; heal restores all', async (t) => {
  const ns = `${namespace}-srv`;
  let server = await startServer(ns);
  const ids: Record<string, string> = {};
  for (const name of ['a', 'b', 'c']) ids[name] = (await rpc(server.port, 'create_node', { name, labels: testLabels() })).node_id;
  const containerOf = async (name: string) => (await rpc(server.port, 'get_node', { node_id: name })).node.container_id as string;
  const partitioned = await rpc(server.port, 'partition_nodes', { groups: [['a', 'b'], ['c']] });
  t.deepEqual(partitioned.groups, [[ids.a, ids.b], [ids.c]]);
  t.is(await ping(await containerOf('a'), 'b'), 0, 'a-b still talk');
  t.not(await ping(await containerOf('a'), 'c'), 0, 'a-c cut');
  t.not(await ping(await containerOf('b'), 'c'), 0, 'b-c cut');
  t.not(await ping(await containerOf('c'), 'a'), 0, 'c-a cut');
  t.deepEqual((await rpc(server.port, 'get_node', { node_id: 'c' })).node.faults.partitioned_from.sort(), [ids.a, ids.b].sort());
  await rpc(server.port, 'partition_nodes', { groups: [['a', 'b'], ['c']] });
  t.is(await ping(await containerOf('a'), 'b'), 0, 'partitioning again changes nothing');

  server.child.kill('SIGKILL');
  await once(server.child, 'exit');
  server = await startServer(ns);
  t.not(await ping(await containerOf('a'), 'c'), 0, 'still cut after the server restarted');
  await rpc(server.port, 'reset_node', { node_id: 'c' });
  t.not(await ping(await containerOf('c'), 'a'), 0, 'c is still cut after its reset');
  t.not(await ping(await containerOf('b'), 'c'), 0);
  t.deepEqual((await rpc(server.port, 'get_node', { node_id: 'c' })).node.faults.partitioned_from.sort(), [ids.a, ids.b].sort());

  t.deepEqual((await rpc(server.port, 'heal_nodes')).node_ids.sort(), Object.values(ids).sort());
  for (const [from, to] of [['a', 'c'], ['c', 'b'], ['a', 'b']] as const) t.is(await ping(await containerOf(from), to), 0, `${from}-${to} after heal`);
  t.deepEqual((await rpc(server.port, 'get_node', { node_id: 'c' })).node.faults.partitioned_from, []);
  await rpc(server.port, 'heal_nodes');
  for (const name of ['a', 'b', 'c']) await rpc(server.port, 'remove_node', { node_id: name });
  const pruned = await rpc(server.port, 'prune_nodes');
  t.true(pruned.removed.some((r: { reason: string }) => r.reason === 'unused_helper'), 'the agent goes with the last node');
  t.deepEqual(await networksOfNamespace(ns), []);
  t.deepEqual(await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${ns}`] }) }), []);
});

test('a partition set while a node has its first reset holds on both sides, cold and onto a warm container', async (t) => {
  const spec = { labels: testLabels() };
  const { manager: warm } = pooledManager(t, 'faults-race', spec);
  for (const [how, m] of [['cold', manager], ['warm', warm]] as const) {
    const peer = await nodeFor(t, m, spec);
    for (let round = 0; round < 2; round++) {
      const fresh = await nodeFor(t, m, spec);
      await m.warmUp();
      // Together: the partition waits for the reset, or the reset for the partition, never a half of each.
      await Promise.all([m.resetNode(fresh.nodeId), m.partitionNodes({ groups: [[fresh.nodeId], [peer.nodeId]] })]);
      const now = await m.getNode(fresh.nodeId);
      t.deepEqual(now.faults?.partitionedFrom, [peer.nodeId], `${how} ${round}: the reset node holds its side`);
      t.not(await ping(now.containerId, peer.nodeId), 0, `${how} ${round}: and cannot reach its peer`);
      await m.healNodes();
    }
  }
});

test('set_link delay_ms 100 shows in ping times, clear_link removes it; loss 100% drops everything', async (t) => {
  const a = await nodeFor(t, manager, { name: 'slow' });
  await nodeFor(t, manager, { name: 'peer' });
  const before = await pingTimes(a.containerId, 'peer');
  await manager.setLink('slow', { delayMs: 100 });
  const delayed = await pingTimes(a.containerId, 'peer');
  t.log(`ping ms before ${before.join(', ')}; with delay_ms 100: ${delayed.join(', ')}`);
  t.is(delayed.length, 3);
  t.true(Math.min(...delayed) >= 100, `every ping took at least 100 ms: ${delayed.join(', ')}`);
  t.like((await manager.getNode('slow')).faults, { link: { delayMs: 100, jitterMs: 0, lossPercent: 0, rateKbit: 0 } });
  await manager.clearLink('slow');
  const cleared = await pingTimes(a.containerId, 'peer');
  t.true(Math.max(...cleared) < 50, `back to fast: ${cleared.join(', ')}`);
  t.is((await manager.getNode('slow')).faults?.link, undefined);
  await manager.setLink('slow', { lossPercent: 100 });
  t.not(await ping(a.containerId, 'peer'), 0);
  await manager.clearLink('slow');
  t.is(await ping(a.containerId, 'peer'), 0);
});

test('a paused node answers nothing, its process reads are wrong_state and health names it; unpause restores it', async (t) => {
  const web = await nodeFor(t, manager, { name: 'frozen', command: 'mkdir -p /www && echo up > /www/index.html && exec httpd -f -p 8080 -h /www' });
  const client = await nodeFor(t, manager, { name: 'asker', image: LAB_IMAGE });
  const get = async () => (await execIn(client.containerId, ['curl', '-sf', '-m', '2', 'http://frozen:8080/'])).exitCode;
  t.is(await get(), 0);
  await manager.pauseNode('frozen');
  t.is((await manager.getNode('frozen')).state, 'paused');
  t.not(await get(), 0, 'no answer while paused');
  await t.throwsAsync(manager.runProcess('frozen', { command: 'true' }), { instanceOf: WrongStateError, message: /state: paused/ });
  const health = await manager.getHealth();
  t.true(health.reasons.some((r) => r.kind === 'node' && r.nodeId === web.nodeId && /paused/.test(r.message)), 'health names the paused node');
  await manager.pauseNode('frozen');
  await manager.unpauseNode('frozen');
  await manager.unpauseNode('frozen');
  t.is(await get(), 0);
});

/** Whether a node reaches an HTTP server that the test runs on its network's gateway address. */
async function reachesHost(t: import('ava').ExecutionContext, node: NodeInfo, ns: string): Promise<boolean> {
  const [net0] = await networksOfNamespace(ns);
  // Docker gives a network whose subnet we chose its first address as gateway.
  const gateway = net0?.IPAM?.Config?.[0]?.Subnet?.replace(/\.0\/\d+$/, '.1');
  t.truthy(gateway);
  const server = createServer((_, res) => res.end('host')).listen(0, gateway);
  await once(server, 'listening');
  t.teardown(() => server.close());
  const { port } = server.address() as net.AddressInfo;
  return (await execIn(node.containerId, ['curl', '-s', '-m', '2', `http://${gateway}:${port}/`])).stdout === 'host';
}

test('a node cannot reach the host through its gateway, unless the operator allows it', async (t) => {
  const guarded = await nodeFor(t, manager, { name: 'guarded', image: LAB_IMAGE });
  t.false(await reachesHost(t, guarded, namespace));
  const openNs = `${namespace}-open`;
  const open = testManager(openNs, { allowHostAccess: true });
  const free = await nodeFor(t, open, { name: 'free', image: LAB_IMAGE });
  t.true(await reachesHost(t, free, openNs), 'the same check passes where access is allowed');
});
