#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size
import { once } from 'node:events';
import { createServer } from 'node:http';
import { pino } from 'pino';
import { createNodeManager, parseInput } from '@nodes/core';
import { accessOptionsOf } from './access-config.js';
import { answerClientErrors, createApp, ServerMetrics } from './app.js';
import { ServerEnvSchema, coreOptionsOf } from './config.js';

/** env -> config -> core -> listen -> graceful shutdown. Nodes are the user's: they are left running on exit. */
async function main(): Promise<void> {
  const env = parseInput(ServerEnvSchema, process.env, 'server environment');
  const access = accessOptionsOf(env);
  const logger = pino({ level: env.NODES_LOG_LEVEL, base: { service: '@nodes/server' } });
  const metrics = new ServerMetrics();
  const core = createNodeManager(coreOptionsOf(env), { logger, metrics: metrics.port });
  const server = answerClientErrors(createServer({ requireHostHeader: false }, createApp(core, { logger, access, metrics }).callback()));
  server.listen(env.NODES_PORT, env.NODES_HOST);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.NODES_PORT;
  logger.info({ host: env.NODES_HOST, port, namespace: core.namespace, engine: core.endpoint, token: access.token !== undefined }, `listening on http://${env.NODES_HOST}:${port}`);

  // Leftovers of an earlier run (crashed resets, containers never started, unreadable labels; idle nodes when
  // NODES_IDLE_TTL_MS is set) are pruned at start and then every NODES_PRUNE_INTERVAL_MS. Live nodes are kept.
  let pruning = false;
  const prune = async (when: string) => {
    if (pruning) return;
    pruning = true;
    try {
      const { removed } = await core.pruneNodes();
      logger.info({ when, removed: removed.length, containers: removed }, 'pruned the namespace');
    } catch (error) {
      logger.warn({ when, err: error instanceof Error ? error.message : String(error) }, 'could not prune the namespace');
    } finally {
      pruning = false;
    }
  };
  void prune('start');
  const pruneTimer = env.NODES_PRUNE_INTERVAL_MS ? setInterval(() => void prune('interval'), env.NODES_PRUNE_INTERVAL_MS) : undefined;
  pruneTimer?.unref();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(pruneTimer);
    logger.info({ signal }, 'shutting down: no new requests, finishing those in flight');
    const force = setTimeout(() => {
      logger.warn({ timeoutMs: env.NODES_SHUTDOWN_TIMEOUT_MS }, 'requests still in flight at the shutdown deadline; closing them');
      server.closeAllConnections();
    }, env.NODES_SHUTDOWN_TIMEOUT_MS);
    force.unref();
    server.close(() => {
      // Refills stop; the warm containers stay for the next run to adopt.
      void core.close().finally(() => {
        logger.info({}, 'stopped');
        process.exit(0);
      });
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`@nodes/server failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
