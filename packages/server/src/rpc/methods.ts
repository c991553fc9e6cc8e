import { z } from 'zod';
import {
  NodeIdSchema,
  NodeRefSchema,
  PortSpecSchema,
  NodeSpecSchema,
  ProcessConfigSchema,
  ProcessIdSchema,
  KillOptionsSchema,
  WaitOptionsSchema,
  LogsQuerySchema,

  type NodeManager,
} from '@nodes/core';
import {
  WireHealthSchema,
  WireNodeSchema,
  WireOutputSchema,
  WireProcessSchema,
  WirePrunedSchema,
  toWireHealth,
  toWireNode,
  toWireOutput,
  toWireProcess,
} from './wire.js';
import { LAB_METHODS } from './lab-methods.js';

const spec = NodeSpecSchema.shape;
const proc = ProcessConfigSchema.shape;

/** `create_node` args: the node spec in snake_case; all optional, as the spec's `create_node` has no args. */
export const CreateNodeArgsSchema = z
  .object({
    image: spec.image,
    name: spec.name,
    env: spec.env,
    labels: spec.labels,
    command: spec.command,
    working_dir: spec.workingDir,
    memory_bytes: spec.memoryBytes,
    nano_cpus: spec.nanoCpus,
    pids_limit: spec.pidsLimit,
    user: spec.user,
    networks: spec.networks,
    ports: z
      .array(
        z
          .object({
            container_port: PortSpecSchema.shape.containerPort,
            host_port: PortSpecSchema.shape.hostPort,
            protocol: PortSpecSchema.shape.protocol.optional(),
          })
          .strict(),
      )
      .optional()
      .describe('ports to publish on the host, bound to NODES_PORT_HOST_IP (default 127.0.0.1)'),
    ttl_ms: spec.ttlMs,
  })
  .strict();

/** `node_id` takes a node id or a node name wherever a node is named. */
const NodeArgsSchema = z.object({ node_id: NodeRefSchema }).strict();
const ProcessArgsSchema = z.object({ node_id: NodeRefSchema, process_id: ProcessIdSchema }).strict();

/**
 * `run_process_on_node` args: the spec's `{node_id, config: {name, path, command, env}}`, plus `timeout_ms` and
 * `grace_ms`; with `wait: true` the answer comes once the process has ended, with the first page of both streams
 * (the wait is bounded by `timeout_ms` + `grace_ms` + 10 s, else 60 s).
 */
export const RunProcessArgsSchema = z
  .object({
    node_id: NodeRefSchema,
    config: z
      .object({ name: proc.name, path: proc.path, command: proc.command, env: proc.env, timeout_ms: proc.timeoutMs, grace_ms: proc.graceMs })
      .strict(),
    wait: z.boolean().default(false),
  })
  .strict();

/**
 * One method of the wire format: its args schema, its result schema (the fields `run` adds to `result` besides
 * `status` and `message`; the OpenAPI document and the typed client are made from both), the spec's messages and
 * the core call. A `message` in what `run` returns replaces `success` when the outcome needs other words.
 */
export interface RpcMethod<A extends z.ZodType = z.ZodType, R extends z.ZodObject = z.ZodObject> {
  args: A;
  result: R;
  success: string;
  failure: string;
  run(core: NodeManager, args: z.output<A>): Promise<z.input<R> & { message?: string }>;
}

const method = <A extends z.ZodType, R extends z.ZodObject>(m: RpcMethod<A, R>): RpcMethod<A, R> => m;

const NodeResultSchema = z.object({ node_id: NodeIdSchema, node: WireNodeSchema });
const ProcessResultSchema = z.object({ process: WireProcessSchema });

export const METHODS = {
  create_node: method({
    args: CreateNodeArgsSchema,
    result: NodeResultSchema,
    success: 'node started successfully',
    failure: 'node failed to start',
    async run(core, a) {
      const node = await core.createNode({
        image: a.image,
        name: a.name,
        env: a.env,
        labels: a.labels,
        command: a.command,
        workingDir: a.working_dir,
        memoryBytes: a.memory_bytes,
        nanoCpus: a.nano_cpus,
        pidsLimit: a.pids_limit,
        user: a.user,
        networks: a.networks,
        ports: a.ports?.map((p) => ({ containerPort: p.container_port, hostPort: p.host_port, protocol: p.protocol })),
        ttlMs: a.ttl_ms,
      });
      return { node_id: node.nodeId, node: toWireNode(node) };
    },
  }),
  remove_node: method({
    args: NodeArgsSchema,
    result: z.object({ node_id: NodeIdSchema }),
    success: 'Node kill successfully',
    failure: 'Node failed to be killed',
    async run(core, a) {
      const nodeId = await core.resolveNodeId(a.node_id);
      await core.removeNode(nodeId);
      return { node_id: nodeId };
    },
  }),
  reset_node: method({
    args: NodeArgsSchema,
    result: NodeResultSchema,
    success: 'node reset successfully',
    failure: 'node failed to be reset',
    async run(core, a) {
      const node = await core.resetNode(a.node_id);
      return { node_id: node.nodeId, node: toWireNode(node) };
    },
  }),
  get_health: method({
    args: z.object({}).strict(),
    result: WireHealthSchema,
    success: 'health checked',
    failure: 'unable to get health',
    async run(core) {
      return toWireHealth(await core.getHealth());
    },
  }),
  run_process_on_node: method({
    args: RunProcessArgsSchema,
    result: ProcessResultSchema.extend({
      node_id: NodeIdSchema,
      process_id: ProcessIdSchema,
      stdout: WireOutputSchema.optional(),
      stderr: WireOutputSchema.optional(),
    }),
    success: 'process started successfully',
    failure: 'process failed to start',
    async run(core, a) {
      const { timeout_ms, grace_ms, ...config } = a.config;
      const processConfig = { ...config, timeoutMs: timeout_ms, graceMs: grace_ms };
      if (a.wait) {
        const logs = await core.runProcessAndWait(a.node_id, processConfig);
        const { nodeId, processId } = logs.process;
        return { node_id: nodeId, process_id: processId, process: toWireProcess(logs.process), stdout: toWireOutput(logs.stdout), stderr: toWireOutput(logs.stderr) };
      }
      const record = await core.runProcess(a.node_id, processConfig);
      return { node_id: record.nodeId, process_id: record.processId, process: toWireProcess(record) };
    },
  }),
  list_nodes: method({
    args: z.object({}).strict(),
    result: z.object({ nodes: z.array(WireNodeSchema) }),
    success: 'nodes listed successfully',
    failure: 'unable to list nodes',
    async run(core) {
      return { nodes: (await core.listNodes()).map((n) => toWireNode(n)) };
    },
  }),
  get_node: method({
    args: NodeArgsSchema,
    result: NodeResultSchema,
    success: 'node found',
    failure: 'unable to get node',
    async run(core, a) {
      const node = await core.getNode(a.node_id);
      return { node_id: node.nodeId, node: toWireNode(node) };
    },
  }),
  prune_nodes: method({
    args: z.object({}).strict(),
    result: z.object({ removed: z.array(WirePrunedSchema), networks: z.array(z.string()).describe('names of the networks removed') }),
    success: 'nodes pruned successfully',
    failure: 'unable to prune nodes',
    async run(core) {
      const { removed, networks } = await core.pruneNodes();
      return { removed: removed.map((r) => ({ container_id: r.containerId, node_id: r.nodeId ?? null, reason: r.reason })), networks };
    },
  }),
  get_process: method({
    args: ProcessArgsSchema,
    result: ProcessResultSchema,
    success: 'process found',
    failure: 'unable to get process',
    async run(core, a) {
      return { process: toWireProcess(await core.getProcess(a.node_id, a.process_id)) };
    },
  }),
  list_processes: method({
    args: NodeArgsSchema,
    result: z.object({ processes: z.array(WireProcessSchema) }),
    success: 'processes listed successfully',
    failure: 'unable to list processes',
    async run(core, a) {
      return { processes: (await core.listProcesses(a.node_id)).map(toWireProcess) };
    },
  }),
  get_process_logs: method({
    args: ProcessArgsSchema.extend({
      stdout_offset: LogsQuerySchema.shape.stdoutOffset,
      stderr_offset: LogsQuerySchema.shape.stderrOffset,
      limit_bytes: LogsQuerySchema.shape.limitBytes,
      encoding: LogsQuerySchema.shape.encoding,
    }).strict(),
    result: ProcessResultSchema.extend({ stdout: WireOutputSchema, stderr: WireOutputSchema }),
    success: 'process logs read successfully',
    failure: 'unable to read process logs',
    async run(core, a) {
      const logs = await core.getProcessLogs(a.node_id, a.process_id, {
        stdoutOffset: a.stdout_offset,
        stderrOffset: a.stderr_offset,
        limitBytes: a.limit_bytes,
        encoding: a.encoding,
      });
      return { process: toWireProcess(logs.process), stdout: toWireOutput(logs.stdout), stderr: toWireOutput(logs.stderr) };
    },
  }),
  kill_process: method({
    args: ProcessArgsSchema.extend({ signal: KillOptionsSchema.shape.signal, grace_ms: KillOptionsSchema.shape.graceMs }).strict(),
    result: ProcessResultSchema,
    success: 'process killed successfully',
    failure: 'process failed to be killed',
    async run(core, a) {
      const askedAtMs = Date.now();
      const record = await core.killProcess(a.node_id, a.process_id, { signal: a.signal, graceMs: a.grace_ms });
      // Killing an ended process only ends what is left of its group; its record keeps how it ended (also when an
      // earlier kill ended it: it ended before this request came).
      const alreadyEnded = record.status !== 'killed' || (record.endedAtMs !== undefined && record.endedAtMs < askedAtMs);
      return { ...(alreadyEnded ? { message: 'process had already ended' } : {}), process: toWireProcess(record) };
    },
  }),
  wait_process: method({
    args: ProcessArgsSchema.extend({ timeout_ms: WaitOptionsSchema.shape.timeoutMs }).strict(),
    result: ProcessResultSchema,
    success: 'process ended',
    failure: 'unable to wait for process',
    async run(core, a) {
      return { process: toWireProcess(await core.waitProcess(a.node_id, a.process_id, { timeoutMs: a.timeout_ms })) };
    },
  }),
  ...LAB_METHODS,
} satisfies Record<string, RpcMethod<any, any>>;

/** The name of a method of the wire format. */
export type MethodName = keyof typeof METHODS;

