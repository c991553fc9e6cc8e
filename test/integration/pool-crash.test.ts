import type { ChildProcess } from 'node:child_process';
import test from 'ava';
import { LABELS } from '@nodes/core';
import { docker, testLabels, useEngine } from '../helpers/engine.js';
import { freePort, spawnServer } from '../helpers/server-process.js';

const { namespace } = useEngine(test, 'pool-crash');
const POOL_SIZE = 3;
const labels = testLabels();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const servers = new Set<ChildProcess>();
test.after.always(() => {
  for (const s of servers) s.kill('SIGKILL');
});

async function rpc(port: number, method: string, args: Record<string, unknown> = {}): Promise<{ status: number; result: Record<string, any> }> {
  const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method, args }) });
  return { status: response.status, result: ((await response.json()) as { result: Record<string, any> }).result };
}

/** The real server with a warm pool of the test-labelled spec, answering. */
async function startServer(port: number): Promise<ChildProcess> {
  const env = { NODES_POOL_SIZE: String(POOL_SIZE), NODES_POOL_SPECS: JSON.stringify([{ labels }]) };
  const child = await spawnServer(port, namespace, env, () => rpc(port, 'list_nodes'));
  servers.add(child);
  child.once('exit', () => servers.delete(child));
  return child;
}

/** The namespace's containers by what their names say: warm (`.P.`), claimed (`.K.`), or anything else. */
async function warmContainers(): Promise<{ pooled: string[]; claiming: string[] }> {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`, LABELS.pool] }) });
  const named = (mark: string) => list.filter((c) => c.Names.some((n) => n.includes(`.${mark}.n-`)) && c.State === 'running').map((c) => c.Id);
  return { pooled: named('P'), claiming: named('K') };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()); await sleep(200)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

test('a SIGKILL in the middle of claims and refills leaves every node usable, no warm container counted as a node, and prune leaves exactly the pool size', async (t) => {
  t.timeout(300_000);
  const port = await freePort();
  let server = await startServer(port);
  await until('the pool to fill', async () => (await warmContainers()).pooled.length >= POOL_SIZE);
  const first = await Promise.all([...Array(3).keys()].map(() => rpc(port, 'create_node', { labels })));
  const resettable = first.map((a) => a.result.node_id as string);
  await until('the pool to refill', async () => (await warmContainers()).pooled.length >= POOL_SIZE);

  // Creates and resets claim the warm containers while refills make new ones; the server dies among them.
  const inFlight = [
    ...[...Array(8).keys()].map(() => rpc(port, 'create_node', { labels })),
    ...resettable.map((nodeId) => rpc(port, 'reset_node', { node_id: nodeId })),
  ].map((p) => p.catch(() => undefined));
  await sleep(120);
  server.kill('SIGKILL');
  const answered = (await Promise.all(inFlight)).filter((a) => a?.status === 200 && a.result.node_id);
  t.log(`${answered.length} of ${inFlight.length} requests answered before the kill`);

  server = await startServer(port);
  const listed = await rpc(port, 'list_nodes');
  const nodes = listed.result.nodes as Array<{ node_id: string; container_id: string; state: string }>;
  for (const a of answered) t.true(nodes.some((n) => n.node_id === a!.result.node_id), `answered node ${a!.result.node_id} is listed`);
  for (const nodeId of resettable) t.true(nodes.some((n) => n.node_id === nodeId), `node ${nodeId} survived its reset`);
  const { pooled } = await warmContainers();
  t.false(nodes.some((n) => pooled.includes(n.container_id)), 'no warm container is listed as a node');
  t.is(new Set(nodes.map((n) => n.node_id)).size, nodes.length, 'no node is listed twice');
  const health = await rpc(port, 'get_health');
  t.is(health.result.nodes.total, nodes.length, 'health counts the nodes and nothing else');

  // A cold create killed between its create and its start left a container never started: a node until prune
  // takes it for half-made (after pruneGraceMs, 10 s). Everything else must run now.
  const started = nodes.filter((n) => n.state !== 'created');
  t.true(started.length >= resettable.length + answered.length);
  const usable = async (list: typeof nodes) => {
    for (const node of list) {
      t.is(node.state, 'running');
      const run = await rpc(port, 'run_process_on_node', { node_id: node.node_id, config: { name: 'alive', path: '/', command: 'echo alive', env: {} } });
      t.is(run.status, 200, `node ${node.node_id} runs a process`);
      const waited = await rpc(port, 'wait_process', { node_id: node.node_id, process_id: run.result.process_id, timeout_ms: 30_000 });
      t.is(waited.result.process?.exit_code, 0);
    }
  };
  await usable(started);

  await sleep(11_000);
  const pruned = await rpc(port, 'prune_nodes');
  t.is(pruned.status, 200);
  t.is((await warmContainers()).pooled.length, POOL_SIZE, 'prune leaves exactly the pool size');
  const after = (await rpc(port, 'list_nodes')).result.nodes as typeof nodes;
  t.deepEqual(after.map((n) => n.node_id).sort(), started.map((n) => n.node_id).sort(), 'prune removed only the half-made');
  t.false(after.some((n) => pooled.includes(n.container_id)));
  t.is((await rpc(port, 'get_health')).result.nodes.total, after.length);
  await usable(after);
});
