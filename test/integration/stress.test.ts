import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { LABELS } from '@nodes/core';
import { createApp } from '@nodes/server';
import { docker, testLabels, useEngine } from '../helpers/engine.js';

const { namespace, manager } = useEngine(test, 'stress');

const CALLS = Number(process.env.NODES_STRESS_CALLS ?? 300);
const IN_FLIGHT = 16;
const NAMES = ['alpha', 'beta', 'gamma'];
/** Failures a caller must be ready for when calls on one node race; anything else is a bug. */
const EXPECTED = new Set(['node_not_found', 'conflict', 'wrong_state']);

interface Answer {
  status: number;
  result: { status: string; node_id?: string; error?: { code: string; detail: string } };
}

test('hundreds of concurrent create/reset/remove/run calls leave exactly one container per live node and no 500', async (t) => {
  t.timeout(90_000);
  const server = http.createServer(createApp(manager).callback()).listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const call = async (method: string, args: Record<string, unknown>): Promise<Answer> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method, args, timestamp: Date.now() / 1000 }),
    });
    return { status: response.status, result: ((await response.json()) as { result: Answer['result'] }).result };
  };

  const created = new Set<string>();
  const removed = new Set<string>();
  const outcomes = new Map<string, number>();
  const unexpected: string[] = [];
  const pick = () => {
    const ids = [...created];
    return ids[Math.floor(Math.random() * ids.length)];
  };
  const create = async () => {
    const name = Math.random() < 0.5 ? NAMES[Math.floor(Math.random() * NAMES.length)] : undefined;
    return call('create_node', { name, labels: testLabels() });
  };
  for (let i = 0; i < 4; i++) {
    const answer = await call('create_node', { labels: testLabels() });
    created.add(answer.result.node_id!);
  }

  const one = async (): Promise<void> => {
    const roll = Math.random();
    const nodeId = pick();
    let method: string;
    let answer: Answer;
    if (roll < 0.2 || !nodeId) {
      method = 'create_node';
      answer = await create();
      if (answer.result.status === 'success') created.add(answer.result.node_id!);
    } else if (roll < 0.45) {
      method = 'reset_node';
      answer = await call(method, { node_id: nodeId });
    } else if (roll < 0.6) {
      method = 'remove_node';
      answer = await call(method, { node_id: nodeId });
      if (answer.result.status === 'success') removed.add(nodeId);
    } else {
      method = 'run_process_on_node';
      answer = await call(method, { node_id: nodeId, config: { name: 'hi', command: 'echo hi' } });
    }
    const code = answer.result.status === 'success' ? 'success' : (answer.result.error?.code ?? 'none');
    outcomes.set(`${method} ${code}`, (outcomes.get(`${method} ${code}`) ?? 0) + 1);
    if (code !== 'success' && (!EXPECTED.has(code) || answer.status >= 500)) {
      unexpected.push(`${method} -> HTTP ${answer.status} ${code}: ${answer.result.error?.detail}`);
    }
  };

  const started = Date.now();
  let issued = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (issued < CALLS) {
        issued++;
        await one();
      }
    }),
  );
  const durationMs = Date.now() - started;
  t.log(`${CALLS} calls, ${IN_FLIGHT} in flight, ${durationMs} ms, ${created.size} nodes created, ${removed.size} removed`);
  t.log(Object.fromEntries([...outcomes].sort()));
  t.deepEqual(unexpected, []);

  const live = [...created].filter((id) => !removed.has(id)).sort();
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`] }) });
  const byNode = new Map<string, string[]>();
  // The namespace's network agent (label io.nodes.role) is a helper, not a node.
  const nodeContainers = containers.filter((c) => !c.Labels[LABELS.role]);
  for (const c of nodeContainers) {
    const id = c.Labels[LABELS.nodeId] ?? '(none)';
    byNode.set(id, [...(byNode.get(id) ?? []), `${c.Names[0]} ${c.State}`]);
  }
  t.deepEqual([...byNode.keys()].sort(), live, 'containers exist for exactly the live nodes');
  for (const [nodeId, list] of byNode) t.is(list.length, 1, `node ${nodeId} has one container: ${list.join(', ')}`);
  t.true(nodeContainers.every((c) => c.State === 'running' && !/-replaced-/.test(c.Names[0]!)));
  t.deepEqual((await manager.listNodes()).map((n) => n.nodeId).sort(), live);
  t.deepEqual((await manager.pruneNodes()).removed, []);
});
