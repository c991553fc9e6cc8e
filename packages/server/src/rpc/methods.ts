import { z } from 'zod';
import {
  NodeIdSchema,
  NodeSpecSchema,
  ProcessConfigSchema,
  ProcessIdSchema,
  KillOptionsSchema,
  WaitOptionsSchema,
  LogsQuerySchema,

  type NodeManager,
} from '@nodes/core';
import { toWireHealth, toWireNode, toWireOutput, toWireProcess } from './wire.js';

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
  })
  .strict();

const NodeArgsSchema = z.object({ node_id: NodeIdSchema }).strict();
const ProcessArgsSchema = z.object({ node_id: NodeIdSchema, process_id: ProcessIdSchema }).strict();

/** `run_process_on_node` args: the spec's `{node_id, config: {name, path, command, env}}`, plus `timeout_ms` and `grace_ms`. */
export const RunProcessArgsSchema = z
  .object({
    node_id: NodeIdSchema,
    config: z
      .object({ name: proc.name, path: proc.path, command: proc.command, env: proc.env, timeout_ms: proc.timeoutMs, grace_ms: proc.graceMs })
      .strict(),
  })
  .strict();

/**
 * One method of the wire format: its args schema, the spec's messages and the core call. What `run` returns is
 * added to `result`; a `message` in it replaces `success` when the outcome needs other words.
 */
export interface RpcMethod<S extends z.ZodType = z.ZodType> {
  args: S;
  success: string;
  failure: string;
  run(core: NodeManager, args: z.output<S>): Promise<Record<string, unknown>>;
}

const method = <S extends z.ZodType>(m: RpcMethod<S>): RpcMethod => m as unknown as RpcMethod;

/**
 * The method table: method name -> args schema -> core call. The first five and their messages are the spec's;
 * the rest extend it in the same style.
 */
export const METHODS: Record<string, RpcMethod> = {
  create_node: method({
    args: CreateNodeArgsSchema,
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
      });
      return { node_id: node.nodeId, node: toWireNode(node) };
    },
  }),
  remove_node: method({
    args: NodeArgsSchema,
    success: 'Node kill successfully',
    failure: 'Node failed to be killed',
    async run(core, a) {
      await core.removeNode(a.node_id);
      return { node_id: a.node_id };
    },
  }),
  reset_node: method({
    args: NodeArgsSchema,
    success: 'node reset successfully',
    failure: 'node failed to be reset',
    async run(core, a) {
      const node = await core.resetNode(a.node_id);
      return { node_id: node.nodeId, node: toWireNode(node) };
    },
  }),
  get_health: method({
    args: z.object({}).strict(),
    success: 'health checked',
    failure: 'unable to get health',
    async run(core) {
      return toWireHealth(await core.getHealth());
    },
  }),
  run_process_on_node: method({
    args: RunProcessArgsSchema,
    success: 'process started successfully',
    failure: 'process failed to start',
    async run(core, a) {
      const { timeout_ms, grace_ms, ...config } = a.config;
      const record = await core.runProcess(a.node_id, { ...config, timeoutMs: timeout_ms, graceMs: grace_ms });
      return { node_id: a.node_id, process_id: record.processId, process: toWireProcess(record) };
    },
  }),
  list_nodes: method({
    args: z.object({}).strict(),
    success: 'nodes listed successfully',
    failure: 'unable to list nodes',
    async run(core) {
      return { nodes: (await core.listNodes()).map((n) => toWireNode(n)) };
    },
  }),
  get_node: method({
    args: NodeArgsSchema,
    success: 'node found',
    failure: 'unable to get node',
    async run(core, a) {
      const node = await core.getNode(a.node_id);
      return { node_id: node.nodeId, node: toWireNode(node) };
    },
  }),
  prune_nodes: method({
    args: z.object({}).strict(),
    success: 'nodes pruned successfully',
    failure: 'unable to prune nodes',
    async run(core) {
      const { removed } = await core.pruneNodes();
      return { removed: removed.map((r) => ({ container_id: r.containerId, node_id: r.nodeId ?? null, reason: r.reason })) };
    },
  }),
  get_process: method({
    args: ProcessArgsSchema,
    success: 'process found',
    failure: 'unable to get process',
    async run(core, a) {
      return { process: toWireProcess(await core.getProcess(a.node_id, a.process_id)) };
    },
  }),
  list_processes: method({
    args: NodeArgsSchema,
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
    success: 'process killed successfully',
    failure: 'process failed to be killed',
    async run(core, a) {
      const record = await core.killProcess(a.node_id, a.process_id, { signal: a.signal, graceMs: a.grace_ms });
      // Killing an ended process only ends what is left of its group; its record keeps how it ended.
      return { ...(record.status === 'killed' ? {} : { message: 'process had already ended' }), process: toWireProcess(record) };
    },
  }),
  wait_process: method({
    args: ProcessArgsSchema.extend({ timeout_ms: WaitOptionsSchema.shape.timeoutMs }).strict(),
    success: 'process ended',
    failure: 'unable to wait for process',
    async run(core, a) {
      return { process: toWireProcess(await core.waitProcess(a.node_id, a.process_id, { timeoutMs: a.timeout_ms })) };
    },
  }),
};

