import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import test from 'ava';
import { LABELS } from '@nodes/core';
import { TEST_IMAGE, containersOfNode, docker, testLabels, useEngine } from '../helpers/engine.js';
import { freePort, spawnServer } from '../helpers/server-process.js';

const { namespace } = useEngine(test, 'server-restart');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const servers = new Set<ChildProcess>();
test.after.always(() => {
  for (const s of servers) s.kill('SIGKILL');
});

/** Starts the built server (`spawnServer`) on the port for this file's namespace, killed after the tests. */
async function startServer(port: number): Promise<ChildProcess> {
  const child = await spawnServer(port, namespace, {}, () => rpc(port, 'list_nodes'));
  servers.add(child);
  child.once('exit', () => servers.delete(child));
  return child;
}

async function rpc(port: number, method: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const response = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ method, args, timestamp: Date.now() / 1000 }),
  });
  return ((await response.json()) as { result: Record<string, any> }).result;
}

test.serial('after SIGKILL a restarted server lists every node and can use them', async (t) => {
  t.timeout(60_000);
  const port = await freePort();
  let server = await startServer(port);
  const ids: string[] = [];
  for (const name of [undefined, 'restart-named']) {
    const result = await rpc(port, 'create_node', { name, labels: testLabels() });
    t.is(result.status, 'success', JSON.stringify(result));
    ids.push(result.node_id);
  }
  const process1 = await rpc(port, 'run_process_on_node', { node_id: ids[0], config: { name: 'sleeper', command: 'sleep 60' } });
  t.is(process1.status, 'success');

  server.kill('SIGKILL');
  await once(server, 'exit');
  // A leftover as a crash can leave it: the namespace's labels, an unreadable spec. The restart prunes it.
  const leftover = await docker.createContainer({
    Image: TEST_IMAGE,
    Cmd: ['sleep', '60'],
    Labels: { ...testLabels(), [LABELS.managedBy]: '@nodes', [LABELS.namespace]: namespace, [LABELS.nodeId]: 'n-00000000beef', [LABELS.spec]: '' },
  });
  server = await startServer(port);
  const pruneDeadline = Date.now() + 10_000;
  while ((await containersOfNode(namespace, 'n-00000000beef')).length > 0 && Date.now() < pruneDeadline) await sleep(100);
  t.deepEqual(await containersOfNode(namespace, 'n-00000000beef'), [], `leftover ${leftover.id.slice(0, 12)} pruned at start`);

  const listed = await rpc(port, 'list_nodes');
  t.deepEqual(listed.nodes.map((n: { node_id: string }) => n.node_id).sort(), [...ids].sort());
  t.true(listed.nodes.every((n: { state: string }) => n.state === 'running'));
  const processes = await rpc(port, 'list_processes', { node_id: ids[0] });
  t.is(processes.processes[0]?.process_id, process1.process_id);
  t.is(processes.processes[0]?.status, 'running', 'the process outlived the server');

  t.is((await rpc(port, 'run_process_on_node', { node_id: ids[1], config: { name: 'hi', command: 'echo hi' } })).status, 'success');
  t.is((await rpc(port, 'reset_node', { node_id: ids[1] })).status, 'success');
  t.is((await rpc(port, 'remove_node', { node_id: ids[0] })).status, 'success');
  t.deepEqual(await containersOfNode(namespace, ids[0]!), []);
  t.is((await rpc(port, 'get_health')).health, 'good');
  server.kill('SIGKILL');
  await once(server, 'exit');
});

test.serial('SIGTERM stops the server with exit code 0 and leaves the nodes running', async (t) => {
  t.timeout(60_000);
  const port = await freePort();
  const server = await startServer(port);
  const created = await rpc(port, 'create_node', { labels: testLabels() });
  t.is(created.status, 'success');

  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  const [code, signal] = (await exited) as [number | null, string | null];
  t.is(code, 0);
  t.is(signal, null);

  const [container] = await containersOfNode(namespace, created.node_id);
  t.is(container?.State, 'running');
  await docker.getContainer(container!.Id).remove({ force: true });
});
