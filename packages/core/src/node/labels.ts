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
  /** on a network: the segment of its namespace it is (`default` for the namespace's own) */
  network: 'io.nodes.network',
} as const;

export const MANAGED_BY = '@nodes';

/** The labels that select every container of a namespace. */
export function namespaceSelector(namespace: string): Record<string, string> {
  return { [LABELS.managedBy]: MANAGED_BY, [LABELS.namespace]: namespace };
}

/** The container name of a node: `nodes-<namespace>-<name or node id>`, so the engine keeps names unique. */
export function containerNameOf(namespace: string, nodeId: string, name: string | undefined): string {
  return `nodes-${namespace}-${name ?? nodeId}`;
}
