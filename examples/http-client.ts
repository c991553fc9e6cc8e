/**
 * Drives a running @nodes server with the typed client `@nodes/client`. Start the server first (./scripts/start),
 * then: `node examples/dist/http-client.js`. NODES_URL (default http://127.0.0.1:8080) and NODES_TOKEN say where
 * and how; the server's NODES_NAMESPACE decides the namespace.
 */
import { NodesClient, NodeError, type WireNode } from '@nodes/client';

const client = new NodesClient();
let node: WireNode | undefined;
try {
  node = await client.createNode({ labels: { example: 'http-client' } });
  console.log(`created ${node.node_id} on ${client.url}`);
  const run = await client.runProcess(node.node_id, { name: 'count', path: '/tmp', command: 'for i in 1 2 3; do echo "tick $i of $JOB"; sleep 0.2; done', env: { JOB: 'demo' } });
  for await (const event of client.followLogs(node.node_id, run.process_id)) {
    if (event.type === 'stdout') process.stdout.write(event.data.replace(/^(?=.)/gm, '  | '));
    if (event.type === 'end') console.log(`process ${run.process_id}: ${event.process.status}, exit code ${event.process.exit_code}`);
  }
  await client.resetNode(node.node_id);
  console.log(`health: ${(await client.getHealth()).health}`);
} catch (error) {
  // One line with the code, never a stack: "start the server first (./scripts/start)" when nothing answers.
  console.error(error instanceof NodeError ? `error ${error.code}: ${error.message}` : String(error));
  process.exitCode = 1;
} finally {
  if (node) await client.removeNode(node.node_id).catch((e: Error) => console.error(`could not remove ${node!.node_id}: ${e.message}`));
}
