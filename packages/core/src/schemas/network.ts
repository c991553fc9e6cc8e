import { z } from 'zod';

/** How many extra networks one node may join besides its namespace's. */
export const MAX_NODE_NETWORKS = 8;

/**
 * A network segment of a namespace, as a node spec names it (`networks: ["backend"]`): a DNS label. `default` is
 * the namespace's own network, which every node joins anyway.
 */
export const NetworkSegmentSchema = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, 'must be a network name: a-z, 0-9 and -, at most 32 characters');

/**
 * One network a node is on: the segment's name (`default` for the namespace's network), the Docker network's
 * name, the node's IPv4 address there (empty while the node is not running) and its DNS aliases (node name, node
 * id).
 */
export const NodeNetworkSchema = z.object({
  network: z.string(),
  dockerNetwork: z.string(),
  ipAddress: z.string(),
  /** absent in `listNodes` (the engine's listing does not report aliases); `getNode` gives them */
  aliases: z.array(z.string()).optional(),
});
export type NodeNetwork = z.infer<typeof NodeNetworkSchema>;
