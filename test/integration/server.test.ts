import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { createApp } from '@nodes/server';
import { containersOfNode, execIn, testLabels, useEngine } from '../helpers/engine.js';

const { namespace, manager } = useEngine(test, 'server');
const server = createServer(createApp(manager).callback());
let url = '';

test.before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
test.after.always(() => server.close());

const call = async (method: string, args?: Record<string, unknown>) => {
  const request = { method, ...(args ? { args } : {}), timestamp: Date.now() / 1000 };
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(request), headers: { 'content-type': 'application/json' } });
  const body = (await res.json()) as { request: unknown; result: Record<string, any> };
  return { status: res.status, request, body };
};

// Serial: a node another test of the namespace is creating meanwhile (created, not yet started) makes health bad.
test.serial('the five methods of the spec do what they say on real containers', async (t) => {
  const created = await call('create_node', { labels: testLabels() });
  t.is(created.status, 200);
  t.deepEqual(created.body.request, created.request);
  t.like(created.body.result, { status: 'success', message: 'node started successfully' });
  const nodeId: string = created.body.result.node_id;
  t.teardown(() => manager.removeNode(nodeId).catch(() => undefined));
  const [container] = await containersOfNode(namespace, nodeId);
  t.is(container?.State, 'running');

  const ran = await call('run_process_on_node', {
    node_id: nodeId,
    config: { name: 'writer', path: '/tmp', command: 'echo "$WHO" > who.txt', env: { WHO: 'spec' } },
  });
  t.like(ran.body.result, { status: 'success', message: 'process started successfully' });
  t.regex(ran.body.result.process_id, /^p-[0-9a-f]{12}$/);
  const waited = await call('wait_process', { node_id: nodeId, process_id: ran.body.result.process_id, timeout_ms: 10_000 });
  t.like(waited.body.result, { status: 'success', process: { status: 'exited', exit_code: 0 } });
  t.is((await execIn(container!.Id, ['cat', '/tmp/who.txt'])).stdout, 'spec\n');

  const healthy = await call('get_health');
  t.like(healthy.body.result, { status: 'success', health: 'good' }, JSON.stringify(healthy.body.result.reasons));

  const reset = await call('reset_node', { node_id: nodeId });
  t.like(reset.body.result, { status: 'success', message: 'node reset successfully', node_id: nodeId });
  const [after] = await containersOfNode(namespace, nodeId);
  t.not(after?.Id, container?.Id);
  t.not((await execIn(after!.Id, ['cat', '/tmp/who.txt'])).exitCode, 0);

  const removed = await call('remove_node', { node_id: nodeId });
  t.like(removed.body.result, { status: 'success', message: 'Node kill successfully' });
  t.deepEqual(await containersOfNode(namespace, nodeId), []);
});

test('bad input gets the failed shape with a reason and the right HTTP status', async (t) => {
  const missing = await call('remove_node', {});
  t.is(missing.status, 400);
  t.like(missing.body.result, { status: 'failed', message: 'Node failed to be killed', error: { code: 'validation_failed' } });
  t.regex(missing.body.result.error.detail, /node_id/);

  const unknown = await call('reset_node', { node_id: 'n-ffffffffffff' });
  t.is(unknown.status, 404);
  t.like(unknown.body.result, { status: 'failed', message: 'node failed to be reset', error: { code: 'node_not_found' } });

  const created = await call('create_node', { labels: testLabels() });
  const nodeId: string = created.body.result.node_id;
  t.teardown(() => manager.removeNode(nodeId).catch(() => undefined));
  const badDir = await call('run_process_on_node', { node_id: nodeId, config: { name: 'x', path: '/nope', command: 'true', env: {} } });
  t.is(badDir.status, 400);
  t.like(badDir.body.result, { status: 'failed', message: 'process failed to start', error: { code: 'validation_failed' } });
  t.regex(badDir.body.result.error.detail, /working directory "\/nope" does not exist/);
  const relative = await call('run_process_on_node', { node_id: nodeId, config: { name: 'x', path: 'tmp', command: 'true', env: {} } });
  t.is(relative.status, 400);
  t.regex(relative.body.result.error.detail, /absolute path/);

  const res = await fetch(url, { method: 'POST', body: '{"method": "create_node",', headers: { 'content-type': 'application/json' } });
  t.is(res.status, 400);
  t.like(await res.json(), { result: { status: 'failed', error: { code: 'invalid_request' } } });
});
