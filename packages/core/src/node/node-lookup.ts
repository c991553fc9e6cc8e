import type { ContainerEngine, ContainerSummary } from '../engine/container-engine.js';
import { LABELS, namespaceSelector } from './labels.js';
import { nodeIdOf } from './node-records.js';

/**
 * Every container of the namespace that belongs to one node, without listing the whole namespace (with 200 nodes
 * that listing is about 0.5 MiB of JSON, for every call on a node). A node's containers are found two ways:
 * those made as the node carry its id label (`io.nodes.node-id`); those made for the warm pool carry its id in
 * their name only (the record name `nodes-<ns>.C.<node id>.…`, see `pool/pool-names.ts`), as does its fault
 * mark (`nodes-<ns>.F.<node id>`, see `network/fault-marks.ts`).
 *
 * The two listings run side by side. While no reset of the node is under way (a reset holds the node's lock, as
 * process starts and removes do), they find all there is. One that straddles a reset can miss both sides: a reset
 * moving a label-made node onto a warm container renames the warm one to the record name before it removes the
 * old one, and a cold reset of a warm-made node keeps the node id in the old container's name until it removes
 * it, after the new one was made; when both listings miss the node, the namespace is listed once, a single
 * snapshot of every container. Otherwise a listing may see the node as it was just before the reset, as a
 * listing of the whole namespace taken then would.
 * Mirrors `GET /containers/json` with label and name filters.
 * @returns the node's containers (any state), or [] when the namespace has none for it.
 */
export async function containersOfNode(engine: ContainerEngine, namespace: string, nodeId: string): Promise<ContainerSummary[]> {
  const selector = namespaceSelector(namespace);
  const [byLabel, byName] = await Promise.all([
    engine.listContainers({ ...selector, [LABELS.nodeId]: nodeId }),
    // Node ids are `n-` and 12 hex digits: a regular expression matching only themselves.
    engine.listContainers(selector, nodeId),
  ]);
  const seen = new Set(byLabel.map((c) => c.id));
  const mine = [...byLabel, ...byName.filter((c) => !seen.has(c.id))];
  if (mine.some((c) => nodeIdOf(c) === nodeId)) return mine;
  return (await engine.listContainers(selector)).filter((c) => nodeIdOf(c) === nodeId || c.name.includes(nodeId));
}

