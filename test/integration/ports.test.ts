import test from 'ava';
import { ConflictError, ValidationError } from '@nodes/core';
import { containersOfNode, nodeFor, testLabels, useEngine } from '../helpers/engine.js';

const { namespace, manager } = useEngine(test, 'ports');

/** A node whose main process serves `/www` over HTTP on port 8080 (busybox httpd). */
const WEB_COMMAND = 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www';

/** GET on the loopback address only (tests never send traffic anywhere else), retried while the server starts. */
async function get(port: number): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      return await res.text();
    } catch (error) {
      if (attempt >= 40) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('a published port answers on 127.0.0.1, shows in get_node, and a reset keeps it', async (t) => {
  const node = await nodeFor(t, manager, { name: 'web', command: WEB_COMMAND, ports: [{ containerPort: 8080 }] });
  const [port] = (await manager.getNode('web')).ports;
  t.like(port, { containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' });
  t.true(port!.hostPort > 0);
  t.is(await get(port!.hostPort), 'hello from web\n');
  t.deepEqual(node.ports, [port], 'create answers the bound port too');
  const reset = await manager.resetNode('web');
  t.deepEqual(reset.ports, [port], 'same host address and port after a reset');
  t.is(await get(port!.hostPort), 'hello from web\n');
  t.deepEqual((await manager.listNodes()).find((n) => n.name === 'web')?.ports, [port], 'the listing shows it too');
});

test('a host port already taken is a conflict and leaves no container; bad ports are refused', async (t) => {
  const first = await nodeFor(t, manager, { command: WEB_COMMAND, ports: [{ containerPort: 8080 }] });
  const taken = first.ports[0]!.hostPort;
  await t.throwsAsync(manager.createNode({ name: 'second', labels: testLabels(), ports: [{ containerPort: 80, hostPort: taken }] }), {
    instanceOf: ConflictError,
    message: /host port is taken/,
  });
  t.falsy((await manager.listNodes()).find((n) => n.name === 'second'));
  t.is((await containersOfNode(namespace, first.nodeId)).length, 1);
  await t.throwsAsync(manager.createNode({ ports: [{ containerPort: 0 }] }), { instanceOf: ValidationError });
  await t.throwsAsync(manager.createNode({ ports: [{ containerPort: 80 }, { containerPort: 80 }] }), { instanceOf: ValidationError, message: /at most once/ });
});
