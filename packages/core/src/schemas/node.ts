import { z } from 'zod';
import { MIN_MEMORY_BYTES, MIN_NANO_CPUS, MIN_PIDS_LIMIT } from '../config.js';
import { LABELS } from '../node/labels.js';
import { AbsolutePathSchema, CommandSchema, ContainerStateSchema, EnvSchema, NodeIdSchema, NodeNameSchema } from './common.js';
import { MAX_NODE_NETWORKS, NetworkSegmentSchema, NodeNetworkSchema } from './network.js';
import { NodePortSchema, PortSpecsSchema } from './ports.js';
import { NodeFaultsSchema } from './faults.js';

/** Label keys under this prefix are ours; a node spec may not set those that @nodes itself writes (`LABELS`). */
export const RESERVED_LABEL_PREFIX = 'io.nodes.';
const RESERVED_LABELS = new Set<string>(Object.values(LABELS));

/**
 * What a node is made from. Every field is optional: the spec's `create_node` takes no args.
 * - `image`: image reference; default: the config's `defaultImage`. Pulled when missing (see `pullPolicy`).
 * - `name`: a DNS label, unique per namespace among live nodes; also the container's hostname.
 * - `env`: environment of the node's main process and, merged under each process's own env, of its processes.
 * - `labels`: extra container labels; the keys @nodes writes itself (`LABELS`, `io.nodes.node-id`…) are reserved.
 * - `command`: the node's main process, an argv array or a shell line; default: one that sleeps until stopped.
 * - `workingDir`: absolute working directory of the main process; default: the image's.
 * - `memoryBytes`, `nanoCpus`, `pidsLimit`: limits, as Docker's `HostConfig.Memory` (also the memory+swap
 *   limit: no swap), `HostConfig.NanoCpus` (1e9 = 1 CPU) and `HostConfig.PidsLimit` (processes and threads);
 *   default: the config's `defaultMemoryBytes`, `defaultNanoCpus`, `defaultPidsLimit`, each at most its `max…`.
 * - `user`: who the main process and the node's processes run as, `user`, `uid`, `user:group` or `uid:gid`
 *   (Docker's `Config.User`); default: the image's (root for most).
 * - `networks`: network segments of the namespace to join besides its own network (`default`), at most
 *   `MAX_NODE_NETWORKS`; each is created on first use. On every one the node answers to its name and node id.
 * - `ports`: ports to publish on the engine's host (schema `PortSpecSchema`), bound to the config's `portHostIp`.
 * - `ttlMs`: optional time to live from creation (ms); past it, prune removes the node (reason `expired`).
 */
export const NodeSpecSchema = z
  .object({
    image: z
      .string()
      .min(1)
      .max(512)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/, 'must be an image reference such as "busybox:latest"')
      .optional(),
    name: NodeNameSchema.optional(),
    env: EnvSchema.optional(),
    labels: z
      .record(z.string().min(1), z.string())
      .superRefine((labels, ctx) => {
        for (const key of Object.keys(labels)) {
          if (RESERVED_LABELS.has(key)) {
            ctx.addIssue({ code: 'custom', path: [key], message: `label key "${key}" is reserved: @nodes writes it` });
          }
        }
      })
      .optional(),
    command: CommandSchema.optional(),
    workingDir: AbsolutePathSchema.optional(),
    memoryBytes: z.number().int().min(MIN_MEMORY_BYTES).optional(),
    nanoCpus: z.number().int().min(MIN_NANO_CPUS).optional(),
    pidsLimit: z.number().int().min(MIN_PIDS_LIMIT).optional(),
    user: z
      .string()
      .regex(/^([a-z_][a-z0-9_.-]{0,31}|\d{1,10})(:([a-z_][a-z0-9_.-]{0,31}|\d{1,10}))?$/, 'must be "user", "uid", "user:group" or "uid:gid"')
      .optional(),
    networks: z.array(NetworkSegmentSchema).max(MAX_NODE_NETWORKS).optional(),
    ports: PortSpecsSchema.optional(),
    ttlMs: z
      .number()
      .int()
      .positive()
      .max(30 * 24 * 3600 * 1000)
      .optional()
      .describe('time to live from creation (ms): once past, the next prune removes the node (reason "expired")'),
  })
  .strict();
export type NodeSpec = z.infer<typeof NodeSpecSchema>;
/** A node spec as a caller writes it (zod input type): a misspelt field such as `{ nmae: 'x' }` fails to compile. */
export type NodeSpecInput = z.input<typeof NodeSpecSchema>;

/**
 * `NodeSpecSchema` for a node being created: every label key under `io.nodes.` is refused, as the whole prefix is
 * the product's (a user label such as `io.nodes.test-run` would make the node look like something it is not).
 * Specs read back from older nodes' labels are not held to it.
 */
export const NodeSpecInputSchema = NodeSpecSchema.superRefine((spec, ctx) => {
  for (const key of Object.keys(spec.labels ?? {})) {
    if (key.startsWith(RESERVED_LABEL_PREFIX) && !RESERVED_LABELS.has(key)) {
      ctx.addIssue({ code: 'custom', path: ['labels', key], message: `label keys under "${RESERVED_LABEL_PREFIX}" are reserved for @nodes` });
    }
  }
});

/**
 * A node as the engine records it (read back from its container's labels and state).
 * Times are ISO 8601. `spec` is what the node was created from, with env values replaced by `"***"`.
 */
export const NodeSchema = z.object({
  nodeId: NodeIdSchema,
  name: z.string().optional(),
  namespace: z.string(),
  image: z.string(),
  state: ContainerStateSchema,
  exitCode: z.number().int().optional(),
  /** true when the kernel's out-of-memory killer ended the node's main process (`State.OOMKilled`; `getNode` gives it) */
  oomKilled: z.boolean().optional(),
  containerId: z.string(),
  createdAt: z.string(),
  resetAt: z.string().optional(),
  resets: z.number().int(),
  /** How many of the node's processes are in each status (`running`, `exited`…); given by `getNode` for a running node. */
  processes: z.record(z.string(), z.number().int()).optional(),
  labels: z.record(z.string(), z.string()),
  /** the node's networks (schema `NodeNetworkSchema`): its namespace's first, then its spec's `networks` */
  networks: z.array(NodeNetworkSchema),
  /** published ports as bound on the host (schema `NodePortSchema`); empty when the spec publishes none */
  ports: z.array(NodePortSchema),
  /** partitions and link faults, read from the node's network namespace; given by `getNode` for a running node */
  faults: NodeFaultsSchema.optional(),
  spec: NodeSpecSchema,
});
export type NodeInfo = z.infer<typeof NodeSchema>;
