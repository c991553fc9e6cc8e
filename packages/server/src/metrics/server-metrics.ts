import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricsPort, NodeManager } from '@nodes/core';

/** Latency buckets in seconds: 5 ms to 2 minutes (waits and pulls are long, reads are short). */
const BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * The server's Prometheus metrics (prom-client), served at `GET /metrics`:
 * - `nodes_requests_total{method,status}`, `nodes_request_duration_seconds{method,status}`: wire methods
 *   (`create_node`…) and other routes (`GET /metrics`…) by HTTP status;
 * - `nodes_engine_calls_total{call}`, `nodes_engine_call_errors_total{call,code}`,
 *   `nodes_engine_call_duration_seconds{call}`: calls of the `ContainerEngine` port;
 * - `nodes_nodes{state}`, `nodes_processes{status}`: read from core when scraped;
 * - `nodes_pool_size`: warm containers of a pool, set through the core's `MetricsPort`;
 * - `nodes_sse_followers`: log streams open now;
 * - Node's process metrics with the `nodes_server_` prefix.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'nodes_requests_total', help: 'requests by wire method (or route) and HTTP status', labelNames: ['method', 'status'] as const, registers: [this.registry] });
  readonly requestDuration = new Histogram({ name: 'nodes_request_duration_seconds', help: 'request latency by wire method (or route) and HTTP status', labelNames: ['method', 'status'] as const, buckets: BUCKETS_S, registers: [this.registry] });
  readonly engineCalls = new Counter({ name: 'nodes_engine_calls_total', help: 'calls of the container engine port', labelNames: ['call'] as const, registers: [this.registry] });
  readonly engineErrors = new Counter({ name: 'nodes_engine_call_errors_total', help: 'failed calls of the container engine port by error code', labelNames: ['call', 'code'] as const, registers: [this.registry] });
  readonly engineDuration = new Histogram({ name: 'nodes_engine_call_duration_seconds', help: 'latency of calls of the container engine port', labelNames: ['call'] as const, buckets: BUCKETS_S, registers: [this.registry] });
  readonly poolSize = new Gauge({ name: 'nodes_pool_size', help: 'warm containers held by the pool', registers: [this.registry] });
  readonly sseFollowers = new Gauge({ name: 'nodes_sse_followers', help: 'log streams (SSE) open now', registers: [this.registry] });
  private core: NodeManager | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'nodes_server_' });
    const metrics = this;
    new Gauge({
      name: 'nodes_nodes',
      help: 'nodes of the namespace by container state, read when scraped',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const nodes = await metrics.listNodes();
        for (const node of nodes) this.inc({ state: node.state });
      },
    });
    new Gauge({
      name: 'nodes_processes',
      help: 'processes of the namespace\'s running nodes by status, read when scraped',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const core = metrics.core;
        if (!core) return;
        const nodes = (await metrics.listNodes()).filter((n) => n.state === 'running');
        const counted = await Promise.all(nodes.map((n) => core.getNode(n.nodeId).catch(() => undefined)));
        for (const node of counted) for (const [status, count] of Object.entries(node?.processes ?? {})) this.inc({ status }, count);
      },
    });
  }

  /** The port core reports engine calls and the pool's size to (`createNodeManager(options, { metrics })`). */
  readonly port: MetricsPort = {
    engineCall: (call, durationMs, errorCode) => {
      this.engineCalls.inc({ call });
      this.engineDuration.observe({ call }, durationMs / 1000);
      if (errorCode) this.engineErrors.inc({ call, code: errorCode });
    },
    poolSize: (size) => this.poolSize.set(size),
  };

  /** The namespace's nodes, tried twice (a node removed mid-listing can fail one read); none when the engine is away. */
  private async listNodes() {
    const core = this.core;
    if (!core) return [];
    return core.listNodes().catch(() => core.listNodes()).catch(() => []);
  }

  /** The manager whose nodes and processes the gauges count when scraped. */
  watch(core: NodeManager): this {
    this.core = core;
    return this;
  }
}
