import { NodeNotFoundError, ProcessNotFoundError, type NodesClient } from '@nodes/client';

const NODE_ID = /^n-[0-9a-f]{12}$/;
const PROCESS_ID = /^p-[0-9a-f]{12}$/;

/**
 * A node id from what the user typed: a node id as it is, else the name of a node of the namespace (as docker
 * takes a container's name). @throws {NodeNotFoundError} when no node has that name.
 */
export async function resolveNode(client: NodesClient, ref: string): Promise<string> {
  if (NODE_ID.test(ref)) return ref;
  const node = (await client.listNodes()).find((n) => n.name === ref);
  if (!node) throw Object.assign(new NodeNotFoundError(ref), { message: `node "${ref}" does not exist (no node has that id or name)` });
  return node.node_id;
}

/**
 * A process id from what the user typed: a process id as it is, else the newest process of the node with that
 * name. @throws {ProcessNotFoundError} when none has that name.
 */
export async function resolveProcess(client: NodesClient, nodeId: string, ref: string): Promise<string> {
  if (PROCESS_ID.test(ref)) return ref;
  const matches = (await client.listProcesses(nodeId)).filter((p) => p.name === ref).sort((a, b) => b.started_at_ms - a.started_at_ms);
  if (!matches[0]) throw Object.assign(new ProcessNotFoundError(nodeId, ref), { message: `process "${ref}" does not exist on node "${nodeId}" (no process has that id or name)` });
  return matches[0].process_id;
}
