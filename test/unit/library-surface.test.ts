import test from 'ava';
import { createNodeManager, ValidationError } from '@nodes/core';
import { FakeEngine } from '../helpers/fake-engine.js';

const managerOf = () => {
  const engine = new FakeEngine();
  return { engine, manager: createNodeManager({ namespace: 'unit' }, { engine }) };
};

test('inputs are typed: misspelt fields and unknown signals fail to compile, and at run time too', async (t) => {
  const { manager } = managerOf();
  // Each @ts-expect-error fails the build when the line below it compiles: these are compile-time checks.
  // @ts-expect-error `nmae` is not a node spec field
  await t.throwsAsync(manager.createNode({ nmae: 'x' }), { instanceOf: ValidationError, message: /nmae/ });
  // @ts-expect-error `cmd` is not a process config field (`command` is)
  await t.throwsAsync(manager.runProcess('n-000000000000', { cmd: 'true' }), { instanceOf: ValidationError });
  // @ts-expect-error `TREM` is not a signal
  await t.throwsAsync(manager.killProcess('n-000000000000', 'p-000000000000', { signal: 'TREM' }), { instanceOf: ValidationError });
});

test('await using removes the node when the scope ends', async (t) => {
  const { engine, manager } = managerOf();
  {
    await using node = await manager.createNode({ name: 'scoped' });
    t.is(node.name, 'scoped');
    t.is(engine.nodeContainers, 1);
  }
  t.is(engine.nodeContainers, 0);
  t.false(Object.keys(await manager.createNode()).some((k) => k.includes('dispose')), 'the handle serializes as the plain record');
});

test('a node created with a TTL is pruned as expired once it has run out; others stay', async (t) => {
  const { manager } = managerOf();
  const shortLived = await manager.createNode({ ttlMs: 50 });
  const kept = await manager.createNode({ ttlMs: 3_600_000 });
  const plain = await manager.createNode();
  await new Promise((r) => setTimeout(r, 120));
  const { removed } = await manager.pruneNodes();
  t.deepEqual(removed.map((r) => [r.nodeId, r.reason]), [[shortLived.nodeId, 'expired']]);
  t.deepEqual((await manager.listNodes()).map((n) => n.nodeId).sort(), [kept.nodeId, plain.nodeId].sort());
});
