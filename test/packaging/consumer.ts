/**
 * What a new user writes after installing the packed tarballs in a strict ESM project: it must compile under
 * `strict` (without skipLibCheck) and run. scripts/check-packages copies it into such a project.
 */
import { NodesClient, NodeNotFoundError } from '@nodes/client';
import { createNodeManager, type NodeSpecInput } from '@nodes/core';
import { createApp } from '@nodes/server';

const spec: NodeSpecInput = { labels: JSON.parse(process.env.CONSUMER_LABELS ?? '{}') as Record<string, string> };
const client = new NodesClient();
const node = await client.createNode({ labels: spec.labels });
try {
  const run = await client.runProcess(node.node_id, { command: 'echo from-tarball' });
  for await (const e of client.followLogs(node.node_id, run.process_id)) if (e.type === 'stdout') process.stdout.write(e.data);
} finally {
  await client.removeNode(node.node_id);
}
const gone = await client.getNode(node.node_id).catch((e: unknown) => e);
console.log(`removed: ${gone instanceof NodeNotFoundError}; library: ${typeof createNodeManager}; server: ${typeof createApp}`);
