import test from 'ava';
import { createCoreInjector, createNodeManager, EngineError, TOKENS, type ContainerEngine } from '@nodes/core';
import { containersOfNode, docker, nodeFor, TEST_IMAGE, useEngine } from '../helpers/engine.js';

const { namespace } = useEngine(test, 'reset-leftover');

test('a reset whose new container runs succeeds even when removing the old one fails, and prune removes the old one', async (t) => {
  const options = { namespace, defaultImage: TEST_IMAGE, pullPolicy: 'never' as const };
  const real = createCoreInjector(options).resolve<ContainerEngine>(TOKENS.ContainerEngine);
  let failRemovalOf: string | undefined;
  // The real engine, except that removing one chosen container fails as an engine error would.
  const engine = new Proxy(real, {
    get(target, key, receiver) {
      if (key === 'removeContainer') {
        return async (id: string) => {
          if (id === failRemovalOf) throw new EngineError(`remove container ${id.slice(0, 12)} failed: device or resource busy`, 500);
          return target.removeContainer(id);
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const manager = createNodeManager(options, { engine });
  const node = await nodeFor(t, manager, { name: 'stuck' });
  failRemovalOf = node.containerId;

  const reset = await manager.resetNode(node.nodeId);
  t.not(reset.containerId, node.containerId);
  t.is(reset.state, 'running');
  const old = await docker.getContainer(node.containerId).inspect();
  t.regex(old.Name, /-replaced-[0-9a-f]{6}$/, 'the old container is left, renamed aside');
  t.is((await manager.getNode(node.nodeId)).containerId, reset.containerId);
  t.deepEqual((await manager.listNodes()).map((n) => n.containerId), [reset.containerId]);

  failRemovalOf = undefined;
  const pruned = await manager.pruneNodes();
  t.deepEqual(pruned.removed, [{ containerId: node.containerId, nodeId: node.nodeId, reason: 'replaced_leftover' }]);
  t.deepEqual((await containersOfNode(namespace, node.nodeId)).map((c) => c.Id), [reset.containerId]);
});
