import type { Health, NodeInfo, OutputChunk, ProcessRecord } from '@nodes/core';

/** A node on the wire (snake_case, as the spec's `node_id`). */
export function toWireNode(node: NodeInfo) {
  return {
    node_id: node.nodeId,
    name: node.name ?? null,
    namespace: node.namespace,
    image: node.image,
    state: node.state,
    exit_code: node.exitCode ?? null,
    container_id: node.containerId,
    created_at: node.createdAt,
    reset_at: node.resetAt ?? null,
    resets: node.resets,
    labels: node.labels,
    spec: {
      image: node.spec.image,
      name: node.spec.name,
      env: node.spec.env,
      labels: node.spec.labels,
      command: node.spec.command,
      working_dir: node.spec.workingDir,
      memory_bytes: node.spec.memoryBytes,
      nano_cpus: node.spec.nanoCpus,
    },
    ...(node.processes ? { processes: node.processes } : {}),
  };
}

/** A process record on the wire. Env values are never part of it. */
export function toWireProcess(p: ProcessRecord) {
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
  };
}

/** A slice of output on the wire. */
export function toWireOutput(o: OutputChunk) {
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

/** Health on the wire: `health` is the spec's `good` / `bad`. */
export function toWireHealth(h: Health) {
  return {
    health: h.health,
    reasons: h.reasons.map((r) =>
      r.kind === 'engine'
        ? { kind: r.kind, code: r.code, message: r.message }
        : { kind: r.kind, node_id: r.nodeId, state: r.state, exit_code: r.exitCode ?? null, message: r.message },
    ),
    engine: { endpoint: h.engine.endpoint, version: h.engine.version ?? null, api_version: h.engine.apiVersion ?? null },
    nodes: h.nodes,
    checked_at: h.checkedAt,
    duration_ms: h.durationMs,
  };
}
