import test from 'ava';
import { ConflictError, LABELS, ValidationError } from '@nodes/core';
import { containersOfNode, docker, execIn, nodeFor, sweepNamespace, testLabels, testManager, TEST_IMAGE, useEngine } from '../helpers/engine.js';

const { namespace, manager } = useEngine(test, 'names');
const SECRET = 'hunter2-secret-value';

/** Every label value of a container, joined: where an env value must never show. */
const labelText = async (containerId: string) => Object.entries((await docker.getContainer(containerId).inspect()).Config.Labels ?? {}).flat().join('\n');

test('names of two namespaces never collide: qa2 + open-x and qa2-open + x are two nodes', async (t) => {
  const a = `${namespace}-qa2`;
  const b = `${namespace}-qa2-open`;
  t.teardown(() => sweepNamespace(a));
  t.teardown(() => sweepNamespace(b));
  const first = await nodeFor(t, testManager(a), { name: 'open-x' });
  const second = await nodeFor(t, testManager(b), { name: 'x' });
  const names = await Promise.all([first, second].map(async (n) => (await docker.getContainer(n.containerId).inspect()).Name));
  t.deepEqual(names, [`/nodes-${a}.N.open-x`, `/nodes-${b}.N.x`]);
});

test('no env value is in any label, before or after a reset; the node and its processes still have it', async (t) => {
  const node = await nodeFor(t, manager, { env: { TOKEN: SECRET, EMPTY: '' } });
  t.false((await labelText(node.containerId)).includes(SECRET));
  t.deepEqual(JSON.parse((await docker.getContainer(node.containerId).inspect()).Config.Labels[LABELS.spec]!).env, { TOKEN: '***', EMPTY: '***' });
  const reset = await manager.resetNode(node.nodeId);
  const info = await docker.getContainer(reset.containerId).inspect();
  t.false((await labelText(reset.containerId)).includes(SECRET));
  t.true(info.Config.Env.includes(`TOKEN=${SECRET}`));
  t.true(info.Config.Env.includes('EMPTY='));
  t.is((await execIn(reset.containerId, ['sh', '-c', 'printf %s "$TOKEN"'])).stdout, SECRET);
  const again = await manager.resetNode(node.nodeId);
  t.is((await execIn(again.containerId, ['sh', '-c', 'printf %s "$TOKEN"'])).stdout, SECRET);
});

test('the whole io.nodes. label prefix is reserved for the product', async (t) => {
  for (const key of ['io.nodes.test-run', 'io.nodes.anything', LABELS.nodeId]) {
    await t.throwsAsync(manager.createNode({ labels: { ...testLabels(), [key]: 'x' } }), { instanceOf: ValidationError, message: /reserved/ }, key);
  }
  const fine = await nodeFor(t, manager, { labels: { 'io.nodesx.mine': 'ok', 'com.example.team': 'a' } });
  t.like(fine.labels, { 'io.nodesx.mine': 'ok', 'com.example.team': 'a' });
});

test('a node made under the earlier name scheme is still found, keeps its name to itself, and resets onto the new scheme', async (t) => {
  const ns = `${namespace}-legacy`;
  t.teardown(() => sweepNamespace(ns));
  const own = testManager(ns);
  const nodeId = 'n-0123456789ab';
  const spec = { name: 'old', env: { TOKEN: SECRET }, labels: testLabels() };
  const made = await docker.createContainer({
    name: `nodes-${ns}-old`,
    Image: TEST_IMAGE,
    Cmd: ['sleep', '300'],
    Env: [`TOKEN=${SECRET}`],
    Labels: {
      ...testLabels(),
      [LABELS.managedBy]: '@nodes',
      [LABELS.namespace]: ns,
      [LABELS.nodeId]: nodeId,
      [LABELS.nodeName]: 'old',
      // Written as the earlier code wrote it: env values in the label.
      [LABELS.spec]: JSON.stringify(spec),
      [LABELS.createdAt]: new Date().toISOString(),
      [LABELS.resets]: '0',
    },
    HostConfig: { Init: true },
  });
  await made.start();

  t.deepEqual((await own.listNodes()).map((n) => [n.nodeId, n.name, n.state]), [[nodeId, 'old', 'running']]);
  await t.throwsAsync(own.createNode({ name: 'old', labels: testLabels() }), { instanceOf: ConflictError, message: /named "old" already exists/ });
  const reset = await own.resetNode('old');
  const info = await docker.getContainer(reset.containerId).inspect();
  t.is(info.Name, `/nodes-${ns}.N.old`);
  t.true(info.Config.Env.includes(`TOKEN=${SECRET}`));
  t.false((await labelText(reset.containerId)).includes(SECRET));
  t.deepEqual((await containersOfNode(ns, nodeId)).map((c) => c.Id), [reset.containerId]);
  t.deepEqual((await own.pruneNodes()).removed, []);
});
