import type { ContainerEngine, ContainerSummary } from '../engine/container-engine.js';
import { ConflictError } from '../errors.js';
import { NodeSpecSchema, RESERVED_LABEL_PREFIX, type NodeInfo, type NodeSpec } from '../schemas/node.js';
import { nodeNetworksOf } from '../network/node-networks.js';
import { nodePortsOf } from '../network/node-ports.js';
import { parsePoolName } from '../pool/pool-names.js';
import { LABELS, legacyContainerNameOf } from './labels.js';

/** Who a node is and its history: what survives resets and manager restarts. */
export interface NodeIdentity {
  nodeId: string;
  name?: string;
  /** ISO 8601 */
  createdAt: string;
  resets: number;
  /** ISO 8601 */
  resetAt?: string;
}

/**
 * The node a container backs, or undefined when it backs none (no node id; a warm-pool container still pooled,
 * staged or being swept). A container made as a node holds its identity in its labels; one made for the warm
 * pool cannot (labels are fixed at create, before it is claimed), so its name holds it (`pool/pool-names.ts`).
 */
export function identityOf(container: ContainerSummary): NodeIdentity | undefined {
  const labels = container.labels;
  if (labels[LABELS.pool] !== undefined) {
    const parsed = parsePoolName(labels[LABELS.namespace] ?? '', container.name);
    return parsed?.kind === 'node' ? { ...parsed.record } : undefined;
  }
  const nodeId = labels[LABELS.nodeId];
  if (!nodeId) return undefined;
  return {
    nodeId,
    name: labels[LABELS.nodeName] || undefined,
    createdAt: labels[LABELS.createdAt] ?? container.createdAt,
    resets: Number(labels[LABELS.resets] ?? 0),
    resetAt: labels[LABELS.resetAt] || undefined,
  };
}

/** The node id of the node a container backs, if any. */
export function nodeIdOf(container: ContainerSummary): string | undefined {
  return identityOf(container)?.nodeId;
}

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
  const identity = identityOf(container) ?? { nodeId: '', createdAt: container.createdAt, resets: 0 };
  return {
    nodeId: identity.nodeId,
    name: identity.name,
    namespace: labels[LABELS.namespace] ?? '',
    image: container.image,
    state: container.state,
    exitCode: container.exitCode,
    ...(container.oomKilled ? { oomKilled: true } : {}),
    containerId: container.id,
    createdAt: identity.createdAt,
    resetAt: identity.resetAt,
    resets: identity.resets,
    labels: userLabels,
    networks: nodeNetworksOf(container, spec.networks, inspected, identity),
    ports: nodePortsOf(container, spec.ports),
    spec: redactSpec(spec),
  };
}

/**
 * Picks each node's container from a namespace's containers. During a reset (or after a crash in one) a node
 * may briefly have two: a running one wins over one that is not (while the new container is created but not
 * yet started, readers keep using the old one), then the one with more resets (a reset onto a warm container
 * makes the new one a node while the old one still runs), then the one under the canonical name, then the
 * newest. One in the engine's `removing` state, and warm-pool containers not claimed, are never picked.
 */
export function currentContainers(containers: ContainerSummary[], canonicalName: (c: ContainerSummary) => string): Map<string, ContainerSummary> {
  const byNode = new Map<string, ContainerSummary>();
  for (const c of containers) {
    const identity = identityOf(c);
    // A container the engine is removing backs no node any more: the node is gone, or moved on in a reset.
    if (!identity || c.state === 'removing') continue;
    const held = byNode.get(identity.nodeId);
    const rank = (x: ContainerSummary) => [x.state === 'running' ? 1 : 0, identityOf(x)?.resets ?? 0, x.name === canonicalName(x) ? 1 : 0];
    const [a, b] = [rank(c), held ? rank(held) : []];
    const i = a.findIndex((v, k) => v !== b[k]);
    if (!held || (i >= 0 ? a[i]! > b[i]! : c.createdAt > held.createdAt)) byNode.set(identity.nodeId, c);
  }
  return byNode;
}
