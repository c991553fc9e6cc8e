import { z } from 'zod';

/** How many ports one node may publish. */
export const MAX_NODE_PORTS = 64;

/**
 * A port a node publishes on the engine's host: `containerPort` (1-65535) and `protocol` (`tcp` default, or
 * `udp`), bound on the host to `hostPort`, or to a port the engine picks when it is left out. The host address
 * is the operator's (`portHostIp`, default 127.0.0.1), never the spec's.
 */
export const PortSpecSchema = z
  .object({
    containerPort: z.number().int().min(1).max(65535),
    hostPort: z.number().int().min(1).max(65535).optional(),
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
  })
  .strict();
export type PortSpec = z.infer<typeof PortSpecSchema>;

/** A node's ports: at most `MAX_NODE_PORTS`, each container port and protocol once. */
export const PortSpecsSchema = z
  .array(PortSpecSchema)
  .max(MAX_NODE_PORTS)
  .refine((ports) => new Set(ports.map((p) => `${p.containerPort}/${p.protocol}`)).size === ports.length, 'each container port and protocol at most once');

/** A published port as the engine bound it: where on the host (`hostIp`, `hostPort`) the node's port answers. */
export const NodePortSchema = z.object({
  containerPort: z.number().int(),
  protocol: z.enum(['tcp', 'udp']),
  hostIp: z.string(),
  /** 0 while the node is not running (the engine binds at start) */
  hostPort: z.number().int(),
});
export type NodePort = z.infer<typeof NodePortSchema>;
