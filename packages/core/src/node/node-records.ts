import type { ContainerEngine, ContainerSummary } from '../engine/container-engine.js';
import { ConflictError } from '../errors.js';
import { NodeSpecSchema, RESERVED_LABEL_PREFIX, type NodeInfo, type NodeSpec } from '../schemas/node.js';
import { nodeNetworksOf } from '../network/node-networks.js';
import { nodePortsOf } from '../network/node-ports.js';
import { LABELS, legacyContainerNameOf } from './labels.js';

/** The spec a container was created from, or undefined when its label is missing, not JSON or invalid. */
export function readSpec(container: ContainerSummary): NodeSpec | undefined {
  try {
    const parsed = NodeSpecSchema.safeParse(JSON.parse(container.labels[LABELS.spec] ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The spec a container was created from, read back from its `io.nodes.spec` label ({} when unreadable). */
export function specOf(container: ContainerSummary): NodeSpec {
  return readSpec(container) ?? {};
}

/**
 * The spec a reset recreates a node from: its `io.nodes.spec` label's, which holds env keys only, with each env
 * value taken from the old container's own `Config.Env` (`container.env`, given by inspect). A label written
 * before env values left it still holds the value, used when the container's env lacks the key.
 */
export function specForReset(container: ContainerSummary): NodeSpec {
  const spec = specOf(container);
  if (!spec.env) return spec;
  const env = spec.env;
  return { ...spec, env: Object.fromEntries(Object.keys(env).map((k) => [k, container.env?.[k] ?? env[k]!])) };
}

/**
 * A node of the namespace made under the earlier container-name scheme may hold the name: the engine would not
 * see the conflict, since the names differ.
 * @throws {ConflictError} when a container named `nodes-<namespace>-<name>` is that namespace's node `name`.
 */
export async function assertNoLegacyHolder(engine: ContainerEngine, namespace: string, name: string): Promise<void> {
  const holder = await engine.inspectContainer(legacyContainerNameOf(namespace, '', name));
  if (holder && holder.state !== 'removing' && holder.labels[LABELS.namespace] === namespace && holder.labels[LABELS.nodeName] === name) {
    throw new ConflictError(`a node named "${name}" already exists in namespace "${namespace}"`);
  }
}

/** The spec with env values replaced by `***`: what we show, since env values carry secrets. */
export function redactSpec(spec: NodeSpec): NodeSpec {
  if (!spec.env) return spec;
  return { ...spec, env: Object.fromEntries(Object.keys(spec.env).map((k) => [k, '***'])) };
}

/**
 * A node as the engine records it, from its container. `inspected`: the container comes from inspect, which
 * reports network aliases (a listing does not).
 */
export function toNodeInfo(container: ContainerSummary, inspected = false): NodeInfo {
  const labels = container.labels;
  const spec = specOf(container);
  const userLabels = Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith(RESERVED_LABEL_PREFIX)));
  return {
    nodeId: labels[LABELS.nodeId] ?? '',
    name: labels[LABELS.nodeName] || undefined,
    namespace: labels[LABELS.namespace] ?? '',
    image: container.image,
    state: container.state,
    exitCode: container.exitCode,
    ...(container.oomKilled ? { oomKilled: true } : {}),
    containerId: container.id,
    createdAt: labels[LABELS.createdAt] ?? container.createdAt,
    resetAt: labels[LABELS.resetAt] || undefined,
    resets: Number(labels[LABELS.resets] ?? 0),
    labels: userLabels,
    networks: nodeNetworksOf(container, spec.networks, inspected),
    ports: nodePortsOf(container, spec.ports),
    spec: redactSpec(spec),
  };
}

/**
 * Picks each node's container from a namespace's containers. During a reset (or after a crash in one) a node
 * may briefly have two: a running one wins over one that is not (while the new container is created but not
 * yet started, readers keep using the old one), then the one under the canonical name, then the newest. One in
 * the engine's `removing` state is never picked.
 */
export function currentContainers(containers: ContainerSummary[], canonicalName: (c: ContainerSummary) => string): Map<string, ContainerSummary> {
  const byNode = new Map<string, ContainerSummary>();
  for (const c of containers) {
    const nodeId = c.labels[LABELS.nodeId];
    // A container the engine is removing backs no node any more: the node is gone, or moved on in a reset.
    if (!nodeId || c.state === 'removing') continue;
    const held = byNode.get(nodeId);
    const score = (x: ContainerSummary) => (x.state === 'running' ? 2 : 0) + (x.name === canonicalName(x) ? 1 : 0);
    if (!held || score(c) > score(held) || (score(c) === score(held) && c.createdAt > held.createdAt)) {
      byNode.set(nodeId, c);
    }
  }
  return byNode;
}
