import { createHash } from 'node:crypto';

/** The segment every node of a namespace joins: the namespace's own network. */
export const DEFAULT_SEGMENT = 'default';

/**
 * The Docker name of a namespace's network segment: `nodes-<namespace>-<segment>-<6 hex>`. The hash of the pair
 * keeps names of different pairs apart even where the readable part reads the same (`a-b` + `c` and `a` + `b-c`).
 */
export function networkNameOf(namespace: string, segment: string): string {
  const hash = createHash('sha256').update(`${namespace}\0${segment}`).digest('hex').slice(0, 6);
  return `nodes-${namespace}-${segment}-${hash}`;
}

/** The segments a node joins: the namespace's network first, then its spec's `networks` in order, once each. */
export function segmentsOf(networks: string[] | undefined): string[] {
  return [...new Set([DEFAULT_SEGMENT, ...(networks ?? [])])];
}

/** The DNS aliases of a node on every network it joins: its name (when it has one) and its node id. */
export function aliasesOf(nodeId: string, name: string | undefined): string[] {
  return name ? [name, nodeId] : [nodeId];
}
