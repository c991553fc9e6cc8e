import test from 'ava';
import { ImageUnavailableError, LABELS, NodeNotFoundError, ValidationError, WrongStateError, ConflictError } from '@nodes/core';
import { containersOfNode, docker, execIn, nodeFor, testLabels, testManager, TEST_ENGINE, TEST_RUN_LABEL, TEST_RUN_ID, useEngine } from '../helpers/engine.js';

const { namespace, manager } = useEngine(test, 'nodes');

const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('create gives a running container with the node\'s labels and an init process', async (t) => {
  const node = await nodeFor(t, manager, { name: 'web-1', env: { ROLE: 'web' } });
  t.regex(node.nodeId, /^n-[0-9a-f]{12}$/);
  t.is(node.state, 'running');
  const info = await docker.getContainer(node.containerId).inspect();
  t.true(info.State.Running);
  t.true(info.HostConfig.Init);
  t.is(info.Config.Labels[LABELS.nodeId], node.nodeId);
  t.is(info.Config.Labels[LABELS.namespace], namespace);
  t.is(info.Config.Labels[TEST_RUN_LABEL], TEST_RUN_ID);
  t.is(info.Config.Hostname, 'web-1');
  t.deepEqual(node.spec.env, { ROLE: '***' }, 'env values are not echoed back');
  t.true(info.Config.Env.includes('ROLE=web'));
});

test('a name already used by a live node of the namespace is a conflict, and leaves nothing behind', async (t) => {
  const first = await nodeFor(t, manager, { name: 'twin' });
  await t.throwsAsync(manager.createNode({ name: 'twin', labels: testLabels() }), { instanceOf: ConflictError, message: /named "twin" already exists/ });
  const all = await manager.listNodes();
  t.deepEqual(all.filter((n) => n.name === 'twin').map((n) => n.nodeId), [first.nodeId]);
});

test('run sees its env and working directory, proved from inside the node', async (t) => {
  const node = await nodeFor(t, manager, { env: { NODE_LEVEL: 'from-node' } });
  await execIn(node.containerId, ['mkdir', '-p', '/srv/work']);
  const started = await manager.runProcess(node.nodeId, {
    name: 'writer',
    path: '/srv/work',
    command: 'echo "$GREETING $NODE_LEVEL $(pwd)" > out.txt',
    env: { GREETING: 'hello' },
  });
  t.regex(started.processId, /^p-[0-9a-f]{12}$/);
  await waitFor('out.txt', async () => (await execIn(node.containerId, ['cat', '/srv/work/out.txt'])).exitCode === 0);
  const { stdout } = await execIn(node.containerId, ['cat', '/srv/work/out.txt']);
  t.is(stdout, 'hello from-node /srv/work\n');
});

test('run accepts an argv array, run as it is without a shell', async (t) => {
  const node = await nodeFor(t, manager);
  const p = await manager.runProcess(node.nodeId, { name: 'argv', command: ['/bin/sh', '-c', 'echo "$0" > /tmp/argv.txt', 'a b'] });
  const done = await manager.waitProcess(node.nodeId, p.processId, { timeoutMs: 10_000 });
  t.is(done.exitCode, 0);
  t.is((await execIn(node.containerId, ['cat', '/tmp/argv.txt'])).stdout, 'a b\n');
});

test('run fails clearly on a missing or relative working directory, an unknown node and a stopped node', async (t) => {
  const node = await nodeFor(t, manager);
  await t.throwsAsync(manager.runProcess(node.nodeId, { name: 'x', path: '/no/such/dir', command: 'true' }), {
    instanceOf: ValidationError,
    message: /working directory "\/no\/such\/dir" does not exist/,
  });
  await t.throwsAsync(manager.runProcess(node.nodeId, { name: 'x', path: 'relative', command: 'true' }), {
    instanceOf: ValidationError,
    message: /path: must be an absolute path/,
  });
  await t.throwsAsync(manager.runProcess('n-000000000000', { name: 'x', command: 'true' }), { instanceOf: NodeNotFoundError });
  await docker.getContainer(node.containerId).stop({ t: 1 });
  await t.throwsAsync(manager.runProcess(node.nodeId, { name: 'x', command: 'true' }), {
    instanceOf: WrongStateError,
    message: new RegExp(`node "${node.nodeId}" is not running \\(state: exited`),
  });
});

test('a node whose main process exits at once fails to start with WrongStateError, leaving no container', async (t) => {
  const error = await t.throwsAsync(manager.createNode({ command: 'exit 3', labels: testLabels() }), {
    instanceOf: WrongStateError,
    message: /failed to start: .*exit code 3/,
  });
  t.is(error?.code, 'wrong_state');
  const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`, `${LABELS.nodeId}`] }) });
  t.false(left.some((c) => c.Labels[TEST_RUN_LABEL] === TEST_RUN_ID && (c.Command ?? '').includes('exit 3')));
});

test('reset keeps the node id, changes the container, and a file written before is gone', async (t) => {
  const node = await nodeFor(t, manager, { name: 'resettable' });
  await execIn(node.containerId, ['sh', '-c', 'echo before > /root/marker']);
  const reset = await manager.resetNode(node.nodeId);
  t.is(reset.nodeId, node.nodeId);
  t.is(reset.name, 'resettable');
  t.not(reset.containerId, node.containerId);
  t.is(reset.state, 'running');
  t.is(reset.resets, 1);
  t.is(reset.createdAt, node.createdAt);
  t.not((await execIn(reset.containerId, ['cat', '/root/marker'])).exitCode, 0, 'the file is gone');
  const containers = await containersOfNode(namespace, node.nodeId);
  t.deepEqual(containers.map((c) => c.Id), [reset.containerId], 'exactly one container backs the node');
});

test('remove leaves no container, and a second remove says not found', async (t) => {
  const node = await manager.createNode({ labels: testLabels() });
  await manager.removeNode(node.nodeId);
  t.deepEqual(await containersOfNode(namespace, node.nodeId), []);
  await t.throwsAsync(manager.removeNode(node.nodeId), { instanceOf: NodeNotFoundError, message: `node "${node.nodeId}" does not exist` });
  await t.throwsAsync(manager.resetNode(node.nodeId), { instanceOf: NodeNotFoundError });
  await t.throwsAsync(manager.removeNode('Not An Id'), { instanceOf: ValidationError, message: /must be a node id/ });
});

test('health turns bad when a node\'s container is stopped from outside, and good again after a reset', async (t) => {
  const own = testManager(`${namespace}-health`);
  t.teardown(async () => {
    for (const n of await own.listNodes()) await own.removeNode(n.nodeId).catch(() => undefined);
  });
  const node = await own.createNode({ labels: testLabels() });
  t.is((await own.getHealth()).health, 'good');
  await docker.getContainer(node.containerId).stop({ t: 1 });
  const bad = await own.getHealth();
  t.is(bad.health, 'bad');
  t.like(bad.reasons[0], { kind: 'node', nodeId: node.nodeId, state: 'exited' });
  await own.resetNode(node.nodeId);
  t.is((await own.getHealth()).health, 'good');
});

test('a missing image fails clearly with pulls disabled and leaves no container', async (t) => {
  await t.throwsAsync(manager.createNode({ image: 'nodes-test/absent:never', labels: testLabels() }), {
    instanceOf: ImageUnavailableError,
    message: /image "nodes-test\/absent:never" is not present on the engine/,
  });
  const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`], ancestor: ['nodes-test/absent:never'] }) });
  t.deepEqual(left, []);
});

test('a node whose command cannot start is cleaned up: no half-made node', async (t) => {
  const marker = { 'test.nodes.case': 'cannot-start' };
  // Docker's init (tini) exits 127 for a command not found; Podman's (catatonit) exits 1.
  const exit = TEST_ENGINE === 'podman' ? 'exit code 1' : 'exit code 127: command not found';
  await t.throwsAsync(manager.createNode({ command: ['/no/such/binary'], labels: { ...testLabels(), ...marker } }), {
    message: new RegExp(`failed to start: its main process exited at once \\(state: exited, ${exit}\\)`),
  });
  const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`, 'test.nodes.case=cannot-start'] }) });
  t.deepEqual(left, []);
});

test('getNode counts the node\'s processes by status, read from inside the node', async (t) => {
  const node = await nodeFor(t, manager);
  t.deepEqual((await manager.getNode(node.nodeId)).processes, {});
  const quick = await manager.runProcess(node.nodeId, { command: 'true' });
  await manager.waitProcess(node.nodeId, quick.processId, { timeoutMs: 10_000 });
  await manager.runProcess(node.nodeId, { command: 'sleep 1000' });
  const seen = await manager.getNode(node.nodeId);
  t.deepEqual(seen.processes, { exited: 1, running: 1 });
  t.is(seen.nodeId, node.nodeId);
  await docker.getContainer(node.containerId).stop({ t: 1 });
  t.is((await manager.getNode(node.nodeId)).processes, undefined, 'a stopped node cannot be read from inside');
});

test('values the engine refuses, and env it could not pass on, are the caller\'s mistake (validation, HTTP 400), leaving nothing', async (t) => {
  const marker = { 'test.nodes.case': 'refused' };
  // Docker refuses more CPUs than the machine has; Podman accepts them.
  if (TEST_ENGINE === 'docker') {
    await t.throwsAsync(manager.createNode({ nanoCpus: 999_999_999_999_999, labels: { ...testLabels(), ...marker } }), {
      instanceOf: ValidationError,
      message: /refused by the engine: .*CPU/i,
    });
  }
  await t.throwsAsync(manager.createNode({ env: { BIG: 'x'.repeat(70 * 1024) }, labels: { ...testLabels(), ...marker } }), {
    instanceOf: ValidationError,
    message: /env: env is \d+ bytes; at most 65536 bytes in all/,
  });
  await t.throwsAsync(manager.createNode({ env: { NUL: 'a\0b' }, labels: { ...testLabels(), ...marker } }), {
    instanceOf: ValidationError,
    message: /env\.NUL: env values cannot hold NUL bytes/,
  });
  const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`, 'test.nodes.case=refused'] }) });
  t.deepEqual(left, []);
});
