import { z } from 'zod';
import {
  ContainerStateSchema,
  OutputEncodingSchema,
  ProcessStatusSchema,
  PruneReasonSchema,
  type Health,
  type NodeInfo,
  type OutputChunk,
  type ProcessRecord,
} from '@nodes/core';

/** A node on the wire: core's `NodeSchema` in snake_case; times ISO 8601; `processes` counts by status (`get_node`). */
export const WireNodeSchema = z.object({
  node_id: z.string(),
  name: z.string().nullable(),
  namespace: z.string(),
  image: z.string(),
  state: ContainerStateSchema,
  exit_code: z.number().int().nullable(),
  /** true when the out-of-memory killer ended the node's main process (`State.OOMKilled`); `get_node` gives it */
  oom_killed: z.boolean().optional(),
  container_id: z.string(),
  created_at: z.string(),
  reset_at: z.string().nullable(),
  resets: z.number().int(),
  labels: z.record(z.string(), z.string()),
  /** the node's networks: the namespace's (`default`) first; `aliases` only in `get_node` and node results */
  networks: z.array(
    z.object({ network: z.string(), docker_network: z.string(), ip_address: z.string(), aliases: z.array(z.string()).optional() }),
  ),
  /** published ports: where on the host each answers (`host_port` 0 while the node does not run) */
  ports: z.array(z.object({ container_port: z.number().int(), protocol: z.enum(['tcp', 'udp']), host_ip: z.string(), host_port: z.number().int() })),
  /** partitions (node ids it no longer reaches) and link faults; in `get_node` once the namespace has an agent */
  faults: z
    .object({
      partitioned_from: z.array(z.string()),
      link: z.object({ delay_ms: z.number(), jitter_ms: z.number(), loss_percent: z.number(), rate_kbit: z.number() }).optional(),
    })
    .optional(),
  spec: z.object({
    image: z.string().optional(),
    name: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    command: z.union([z.string(), z.array(z.string())]).optional(),
    working_dir: z.string().optional(),
    memory_bytes: z.number().int().optional(),
    nano_cpus: z.number().int().optional(),
    pids_limit: z.number().int().optional(),
    user: z.string().optional(),
    networks: z.array(z.string()).optional(),
    ports: z.array(z.object({ container_port: z.number().int(), host_port: z.number().int().optional(), protocol: z.enum(['tcp', 'udp']) })).optional(),
    ttl_ms: z.number().int().optional(),
  }),
  processes: z.record(z.string(), z.number().int()).optional(),
});
export type WireNode = z.infer<typeof WireNodeSchema>;

/** A node on the wire (snake_case, as the spec's `node_id`). */
export function toWireNode(node: NodeInfo): WireNode {
  return {
    node_id: node.nodeId,
    name: node.name ?? null,
    namespace: node.namespace,
    image: node.image,
    state: node.state,
    exit_code: node.exitCode ?? null,
    ...(node.oomKilled ? { oom_killed: true } : {}),
    container_id: node.containerId,
    created_at: node.createdAt,
    reset_at: node.resetAt ?? null,
    resets: node.resets,
    labels: node.labels,
    networks: node.networks.map((n) => ({
      network: n.network,
      docker_network: n.dockerNetwork,
      ip_address: n.ipAddress,
      ...(n.aliases ? { aliases: n.aliases } : {}),
    })),
    ports: node.ports.map((p) => ({ container_port: p.containerPort, protocol: p.protocol, host_ip: p.hostIp, host_port: p.hostPort })),
    ...(node.faults
      ? {
          faults: {
            partitioned_from: node.faults.partitionedFrom,
            ...(node.faults.link
              ? { link: { delay_ms: node.faults.link.delayMs, jitter_ms: node.faults.link.jitterMs, loss_percent: node.faults.link.lossPercent, rate_kbit: node.faults.link.rateKbit } }
              : {}),
          },
        }
      : {}),
    spec: {
      image: node.spec.image,
      name: node.spec.name,
      env: node.spec.env,
      labels: node.spec.labels,
      command: node.spec.command,
      working_dir: node.spec.workingDir,
      memory_bytes: node.spec.memoryBytes,
      nano_cpus: node.spec.nanoCpus,
      pids_limit: node.spec.pidsLimit,
      user: node.spec.user,
      networks: node.spec.networks,
      ports: node.spec.ports?.map((p) => ({ container_port: p.containerPort, host_port: p.hostPort, protocol: p.protocol })),
      ttl_ms: node.spec.ttlMs,
    },
    ...(node.processes ? { processes: node.processes } : {}),
  };
}

/**
 * A process record on the wire: core's `ProcessRecordSchema` in snake_case. Times ISO 8601 and Unix ms; sizes in
 * bytes; `exit_code` is never null once `status` is not `running`. Env values are never part of it.
 */
export const WireProcessSchema = z.object({
  process_id: z.string(),
  node_id: z.string(),
  name: z.string(),
  command: z.union([z.string(), z.array(z.string())]),
  path: z.string(),
  env_keys: z.array(z.string()),
  timeout_ms: z.number().nullable(),
  status: ProcessStatusSchema,
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  pid: z.number().int().nullable(),
  started_at: z.string(),
  started_at_ms: z.number(),
  ended_at: z.string().nullable(),
  ended_at_ms: z.number().nullable(),
  stdout_bytes: z.number().int(),
  stderr_bytes: z.number().int(),
  truncated: z.object({ stdout: z.boolean(), stderr: z.boolean() }),
  /** `oom_killed` when the kernel's out-of-memory killer ended it */
  reason: z.enum(['oom_killed']).optional(),
  /** set when part of the record in the node could not be read (too large, or not what the manager wrote) */
  error: z.string().optional(),
});
export type WireProcess = z.infer<typeof WireProcessSchema>;

/** A process record on the wire. Env values are never part of it. */
export function toWireProcess(p: ProcessRecord): WireProcess {
  return {
    process_id: p.processId,
    node_id: p.nodeId,
    name: p.name,
    command: p.command,
    path: p.path,
    env_keys: p.envKeys,
    timeout_ms: p.timeoutMs ?? null,
    status: p.status,
    exit_code: p.exitCode ?? null,
    signal: p.signal ?? null,
    pid: p.pid ?? null,
    started_at: p.startedAt,
    started_at_ms: p.startedAtMs,
    ended_at: p.endedAt ?? null,
    ended_at_ms: p.endedAtMs ?? null,
    stdout_bytes: p.stdoutBytes,
    stderr_bytes: p.stderrBytes,
    truncated: p.truncated,
    ...(p.reason ? { reason: p.reason } : {}),
    ...(p.error ? { error: p.error } : {}),
  };
}

/** A slice of one output stream on the wire: core's `OutputChunkSchema` in snake_case; offsets and sizes in bytes. */
export const WireOutputSchema = z.object({
  data: z.string(),
  encoding: OutputEncodingSchema,
  offset: z.number().int(),
  next_offset: z.number().int(),
  total_bytes: z.number().int(),
  truncated: z.boolean(),
  complete: z.boolean(),
});
export type WireOutput = z.infer<typeof WireOutputSchema>;

/** A slice of output on the wire. */
export function toWireOutput(o: OutputChunk): WireOutput {
  return {
    data: o.data,
    encoding: o.encoding,
    offset: o.offset,
    next_offset: o.nextOffset,
    total_bytes: o.totalBytes,
    truncated: o.truncated,
    complete: o.complete,
  };
}

/** Health on the wire: core's `HealthSchema` in snake_case; `health` is the spec's `good` / `bad`. */
export const WireHealthSchema = z.object({
  health: z.enum(['good', 'bad']),
  reasons: z.array(
    z.union([
      z.object({ kind: z.literal('engine'), code: z.string(), message: z.string() }),
      z.object({
        kind: z.literal('node'),
        node_id: z.string(),
        state: ContainerStateSchema,
        exit_code: z.number().int().nullable(),
        oom_killed: z.boolean().optional(),
        message: z.string(),
      }),
    ]),
  ),
  engine: z.object({ endpoint: z.string(), version: z.string().nullable(), api_version: z.string().nullable() }),
  nodes: z.object({ total: z.number().int(), running: z.number().int() }),
  checked_at: z.string(),
  duration_ms: z.number(),
});
export type WireHealth = z.infer<typeof WireHealthSchema>;

/** Health on the wire: `health` is the spec's `good` / `bad`. */
export function toWireHealth(h: Health): WireHealth {
  return {
    health: h.health,
    reasons: h.reasons.map((r) =>
      r.kind === 'engine'
        ? { kind: r.kind, code: r.code, message: r.message }
        : { kind: r.kind, node_id: r.nodeId, state: r.state, exit_code: r.exitCode ?? null, ...(r.oomKilled ? { oom_killed: true } : {}), message: r.message },
    ),
    engine: { endpoint: h.engine.endpoint, version: h.engine.version ?? null, api_version: h.engine.apiVersion ?? null },
    nodes: h.nodes,
    checked_at: h.checkedAt,
    duration_ms: h.durationMs,
  };
}

/** A container `prune_nodes` removed, on the wire. */
export const WirePrunedSchema = z.object({ container_id: z.string(), node_id: z.string().nullable(), reason: PruneReasonSchema });
