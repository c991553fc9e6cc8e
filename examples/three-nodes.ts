/**
 * @nodes/core as a library: three nodes, a process on each, reset one, remove all.
 * Run: `pnpm run build && node examples/dist/three-nodes.js` (needs an engine: ./scripts/ensure-engine).
 * The namespace is NODES_NAMESPACE's, else `example`.
 */
import { createNodeManager, type NodeInfo } from '@nodes/core';

const manager = createNodeManager({ namespace: process.env.NODES_NAMESPACE || 'example' });
const nodes: NodeInfo[] = [];
try {
  // Created inside the try: when one create fails, the finally still removes those that were made.
  const made = await Promise.allSettled(['alpha', 'beta', 'gamma'].map((name) => manager.createNode({ name, env: { ROLE: name } })));
  for (const m of made) if (m.status === 'fulfilled') nodes.push(m.value);
  const failed = made.find((m) => m.status === 'rejected');
  if (failed) throw failed.reason;
  for (const node of nodes) console.log(`created ${node.name} as ${node.nodeId} (container ${node.containerId.slice(0, 12)})`);

  const runs = await Promise.all(
    nodes.map((node) =>
      manager.runProcess(node.nodeId, { name: 'hello', path: '/tmp', command: 'echo "I am $ROLE on $(hostname), greeting $GREETING"; touch /tmp/was-here', env: { GREETING: 'world' } }),
    ),
  );
  for (const [i, run] of runs.entries()) {
    const done = await manager.waitProcess(nodes[i]!.nodeId, run.processId, { timeoutMs: 10_000 });
    const out = await manager.getProcessOutput(nodes[i]!.nodeId, run.processId, 'stdout');
    console.log(`${nodes[i]!.name}: ${done.status}, exit code ${done.exitCode}: ${out.data.trim()}`);
  }

  const reset = await manager.resetNode(nodes[0]!.nodeId);
  console.log(`reset ${reset.name}: same node id ${reset.nodeId}, new container ${reset.containerId.slice(0, 12)}`);
  const check = await manager.runProcess(reset.nodeId, { name: 'check', command: 'test -e /tmp/was-here && echo still there || echo fresh filesystem' });
  await manager.waitProcess(reset.nodeId, check.processId);
  console.log(`after reset: ${(await manager.getProcessOutput(reset.nodeId, check.processId, 'stdout')).data.trim()}`);

  console.log(`health: ${(await manager.getHealth()).health}`);
} finally {
  for (const node of nodes) await manager.removeNode(node.nodeId).catch((e: Error) => console.error(`could not remove ${node.nodeId}: ${e.message}`));
  console.log(`removed ${nodes.length} nodes; left in namespace: ${(await manager.listNodes()).length}`);
  // The namespace's network and its network agent stay for the next node until a prune finds them unused.
  const { removed } = await manager.pruneNodes();
  console.log(`pruned ${removed.length} unused helper(s) of the namespace`);
}
