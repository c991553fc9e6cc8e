import { z } from 'zod';
import { FileModeSchema, FileTypeSchema, LinkSchema, NodeIdSchema, NodeRefSchema, type FileInfo, type Link, type NodeManager } from '@nodes/core';
import type { RpcMethod } from './methods.js';

/** The most a `read_file` answers in one JSON body (bytes, before base64); larger files give `too_large` (413). */
export const MAX_WIRE_READ_BYTES = 16 * 1024 * 1024;

const FileArgsSchema = z.object({ node_id: NodeRefSchema, path: z.string() }).strict();
const WireFileSchema = z.object({ path: z.string(), size_bytes: z.number().int(), mode: z.number().int() });
const toWireFile = (f: FileInfo) => ({ path: f.path, size_bytes: f.sizeBytes, mode: f.mode });

/** A lab method: args schema, result schema, the messages and the core call (see `RpcMethod`). */
const lab = <A extends z.ZodType, R extends z.ZodObject>(m: RpcMethod<A, R>): RpcMethod<A, R> => m;

const link = LinkSchema.shape;
const WireLinkSchema = z.object({ delay_ms: z.number(), jitter_ms: z.number(), loss_percent: z.number(), rate_kbit: z.number() });
const toWireLink = (l: Link) => ({ delay_ms: l.delayMs, jitter_ms: l.jitterMs, loss_percent: l.lossPercent, rate_kbit: l.rateKbit });
const NodeOnlyArgsSchema = z.object({ node_id: NodeRefSchema }).strict();

/**
 * Methods for labs (issue "Nodes that form a lab"): files in nodes, partitions, link faults, pause. Same envelope, messages in the spec's style,
 * `node_id` a node id or name. Paths are checked by core (`FilePathSchema`).
 */
export const LAB_METHODS = {
  write_file: lab({
    args: FileArgsSchema.extend({
      data: z.base64().describe('the file\'s bytes, base64; the request body limit bounds it (1 MiB by default)'),
      mode: FileModeSchema.optional().describe('permission bits, default 0o644 (420)'),
      create_parents: z.boolean().optional().describe('make missing parent directories (default true)'),
    }).strict(),
    result: z.object({ node_id: NodeIdSchema, file: WireFileSchema }),
    success: 'file written successfully',
    failure: 'file failed to be written',
    async run(core: NodeManager, a) {
      const nodeId = await core.resolveNodeId(a.node_id);
      const file = await core.writeFile(nodeId, a.path, Buffer.from(a.data, 'base64'), { mode: a.mode, createParents: a.create_parents });
      return { node_id: nodeId, file: toWireFile(file) };
    },
  }),
  read_file: lab({
    args: FileArgsSchema,
    result: z.object({
      node_id: NodeIdSchema,
      file: WireFileSchema,
      data: z.string().describe('the file\'s bytes, base64'),
      encoding: z.literal('base64'),
    }),
    success: 'file read successfully',
    failure: 'unable to read file',
    async run(core: NodeManager, a) {
      const nodeId = await core.resolveNodeId(a.node_id);
      const { info, data } = await core.readFile(nodeId, a.path, MAX_WIRE_READ_BYTES);
      return { node_id: nodeId, file: toWireFile(info), data: data.toString('base64'), encoding: 'base64' as const };
    },
  }),
  list_files: lab({
    args: FileArgsSchema,
    result: z.object({
      node_id: NodeIdSchema,
      path: z.string(),
      entries: z.array(
        z.object({ name: z.string(), type: FileTypeSchema, size_bytes: z.number().int(), mode: z.number().int(), modified_at: z.string() }),
      ),
      truncated: z.boolean(),
    }),
    success: 'files listed successfully',
    failure: 'unable to list files',
    async run(core: NodeManager, a) {
      const nodeId = await core.resolveNodeId(a.node_id);
      const listing = await core.listFiles(nodeId, a.path);
      return {
        node_id: nodeId,
        path: listing.path,
        entries: listing.entries.map((e) => ({ name: e.name, type: e.type, size_bytes: e.sizeBytes, mode: e.mode, modified_at: e.modifiedAt })),
        truncated: listing.truncated,
      };
    },
  }),
  partition_nodes: lab({
    args: z
      .object({ groups: z.array(z.array(NodeRefSchema).min(1)).min(2).describe('groups of node ids or names; different groups stop reaching each other') })
      .strict(),
    result: z.object({ groups: z.array(z.array(NodeIdSchema)) }),
    success: 'nodes partitioned successfully',
    failure: 'nodes failed to be partitioned',
    async run(core: NodeManager, a) {
      return { groups: (await core.partitionNodes({ groups: a.groups })).groups };
    },
  }),
  heal_nodes: lab({
    args: z.object({}).strict(),
    result: z.object({ node_ids: z.array(NodeIdSchema).describe('the running nodes whose partitions were lifted') }),
    success: 'nodes healed successfully',
    failure: 'nodes failed to be healed',
    async run(core: NodeManager) {
      return { node_ids: await core.healNodes() };
    },
  }),
  set_link: lab({
    args: z
      .object({
        node_id: NodeRefSchema,
        delay_ms: link.delayMs,
        jitter_ms: link.jitterMs,
        loss_percent: link.lossPercent,
        rate_kbit: link.rateKbit,
      })
      .strict(),
    result: z.object({ node_id: NodeIdSchema, link: WireLinkSchema }),
    success: 'link set successfully',
    failure: 'link failed to be set',
    async run(core: NodeManager, a) {
      const nodeId = await core.resolveNodeId(a.node_id);
      const set = await core.setLink(nodeId, { delayMs: a.delay_ms, jitterMs: a.jitter_ms, lossPercent: a.loss_percent, rateKbit: a.rate_kbit });
      return { node_id: nodeId, link: toWireLink(set) };
    },
  }),
  clear_link: lab({
    args: NodeOnlyArgsSchema,
    result: z.object({ node_id: NodeIdSchema }),
    success: 'link cleared successfully',
    failure: 'link failed to be cleared',
    async run(core: NodeManager, a) {
      const nodeId = await core.resolveNodeId(a.node_id);
      await core.clearLink(nodeId);
      return { node_id: nodeId };
    },
  }),
  pause_node: lab({
    args: NodeOnlyArgsSchema,
    result: z.object({ node_id: NodeIdSchema }),
    success: 'node paused successfully',
    failure: 'node failed to be paused',
    async run(core: NodeManager, a) {
      const nodeId = await core.resolveNodeId(a.node_id);
      await core.pauseNode(nodeId);
      return { node_id: nodeId };
    },
  }),
  unpause_node: lab({
    args: NodeOnlyArgsSchema,
    result: z.object({ node_id: NodeIdSchema }),
    success: 'node unpaused successfully',
    failure: 'node failed to be unpaused',
    async run(core: NodeManager, a) {
      const nodeId = await core.resolveNodeId(a.node_id);
      await core.unpauseNode(nodeId);
      return { node_id: nodeId };
    },
  }),
} satisfies Record<string, RpcMethod<any, any>>;
