import { parsePoolName, recordNameOf } from '../pool/pool-names.js';

/**
 * The labels every node's container carries. They are the record of which nodes exist: a manager that starts
 * later finds its nodes, their specs and their history on the engine alone.
 */
export const LABELS = {
  /** always `@nodes`: marks containers this library made */
  managedBy: 'io.nodes.managed-by',
  /** the manager's namespace; managers only see their own */
  namespace: 'io.nodes.namespace',
  /** our node id; it survives a reset */
  nodeId: 'io.nodes.node-id',
  /** the node's name, when its spec gave one */
  nodeName: 'io.nodes.node-name',
  /** the node spec as JSON: what a reset recreates the node from */
  spec: 'io.nodes.spec',
  /** when the node was first created (ISO 8601); survives a reset */
  createdAt: 'io.nodes.created-at',
  /** how many times the node was reset */
  resets: 'io.nodes.resets',
  /** when the node was last reset (ISO 8601) */
  resetAt: 'io.nodes.reset-at',
  /**
   * a helper container of the namespace, not a node: `agent` (see `NetworkAgent`), `claim` (a warm container's
   * claim marker, `pool/warm-containers.ts`) or `faults` (a node's fault mark, `network/fault-marks.ts`)
   */
  role: 'io.nodes.role',
  /** on a fault mark: the node id of the node that has (or had) network faults */
  faultsOf: 'io.nodes.faults-of',
  /**
   * on a warm-pool container: the pool key of the spec it was made for (see `pool/pool-keys.ts`). Such a
   * container carries no node id label: its name says whether it is pooled or a node, and holds the node's record
   * (see `pool/pool-names.ts`).
   */
  pool: 'io.nodes.pool',
  /** on a network: the segment of its namespace it is (`default` for the namespace's own) */
  network: 'io.nodes.network',
} as const;

export const MANAGED_BY = '@nodes';

/** The labels that select every container of a namespace. */
export function namespaceSelector(namespace: string): Record<string, string> {
  return { [LABELS.managedBy]: MANAGED_BY, [LABELS.namespace]: namespace };
}

/**
 * The container name of a node, `nodes-<namespace>.N.<name or node id>`, so the engine keeps names unique. The
 * separator holds an upper-case letter, which namespaces, names and node ids cannot: two namespaces' names never
 * collide (`qa2` + `open-x` and `qa2-open` + `x` did under the earlier `nodes-<namespace>-<name>`).
 */
export function containerNameOf(namespace: string, nodeId: string, name: string | undefined): string {
  return `nodes-${namespace}.N.${name ?? nodeId}`;
}

/** The container name of a node under the earlier scheme, `nodes-<namespace>-<name or node id>`. */
export function legacyContainerNameOf(namespace: string, nodeId: string, name: string | undefined): string {
  return `nodes-${namespace}-${name ?? nodeId}`;
}

/**
 * The name a node's container has when it is the node's own (not renamed aside by a reset): its
 * `containerNameOf`, or, for a container made under the earlier scheme and still carrying that name, the earlier one.
 */
export function canonicalNameOf(namespace: string, container: { name: string; labels: Record<string, string> }): string {
  if (container.labels[LABELS.pool] !== undefined) {
    // A pool container's name holds its record: its own name, without a reset's `-replaced-…` suffix.
    const parsed = parsePoolName(namespace, container.name);
    return parsed?.kind === 'node' ? recordNameOf(namespace, parsed.record) : container.name;
  }
  const nodeId = container.labels[LABELS.nodeId] ?? '';
  const name = container.labels[LABELS.nodeName] || undefined;
  const legacy = legacyContainerNameOf(namespace, nodeId, name);
  return container.name === legacy ? legacy : containerNameOf(namespace, nodeId, name);
}
