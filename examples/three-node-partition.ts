/**
 * A tiny lab: three nodes that reach each other by name, a partition that cuts one away, a heal, a slow link.
 * Each round, every node pings the others once by name (`ping -c1 -W1 <name>`) and the reachability matrix is
 * printed; `leader` is who the followers see (the lowest-named node they reach, as a naive leader election).
 * Run: `pnpm run build && node examples/dist/three-node-partition.js` (needs an engine: ./scripts/ensure-engine,
 * and the lab image for the network agent: ./scripts/ensure-image --lab). Namespace: NODES_NAMESPACE, else
 * `example-partition`.
 */
import { createNodeManager, type NodeInfo } from '@nodes/core';

const NAMES = ['alpha', 'beta', 'gamma'] as const;
const manager = createNodeManager({ namespace: process.env.NODES_NAMESPACE || 'example-partition' });
const nodes: NodeInfo[] = [];

/** One round: who reaches whom, by name, and whom each node would follow as leader. */
async function round(title: string): Promise<void> {
  const rows = await Promise.all(
    NAMES.map(async (from) => {
      const seen = await Promise.all(
        NAMES.filter((to) => to !== from).map(async (to) => {
          const { exitCode } = await manager.exec(from, { command: `ping -c 1 -W 1 ${to}` });
          return [to, exitCode === 0] as const;
        }),
      );
      const reached = seen.filter(([, ok]) => ok).map(([to]) => to);
      const leader = [from, ...reached].sort()[0];
      return `  ${from.padEnd(6)} reaches ${reached.join(', ') || 'nobody'}; follows ${leader}`;
    }),
  );
  console.log(`${title}\n${rows.join('\n')}`);
}

try {
  const made = await Promise.allSettled(NAMES.map((name) => manager.createNode({ name })));
  for (const m of made) if (m.status === 'fulfilled') nodes.push(m.value);
  const failed = made.find((m) => m.status === 'rejected');
  if (failed) throw failed.reason;
  for (const n of nodes) console.log(`${n.name}: ${n.nodeId} at ${n.networks.map((net) => `${net.ipAddress} on ${net.dockerNetwork}`).join(', ')}`);

  await round('all connected:');
  await manager.partitionNodes({ groups: [['alpha', 'beta'], ['gamma']] });
  await round('partitioned [alpha, beta] | [gamma]:');
  console.log(`gamma is cut from: ${(await manager.getNode('gamma')).faults?.partitionedFrom.join(', ')}`);
  await manager.healNodes();
  await round('healed:');

  await manager.setLink('beta', { delayMs: 100 });
  const slow = await manager.exec('beta', { command: 'ping -c 3 alpha' });
  console.log(`beta -> alpha with delay_ms 100: ${[...slow.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => m[1]).join(', ')} ms`);
  await manager.clearLink('beta');
} finally {
  for (const node of nodes) await manager.removeNode(node.nodeId).catch((e: Error) => console.error(`could not remove ${node.nodeId}: ${e.message}`));
  const pruned = await manager.pruneNodes();
  console.log(`removed ${nodes.length} nodes, ${pruned.networks.length} networks and ${pruned.removed.length} helpers`);
}
