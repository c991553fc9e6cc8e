import { z } from 'zod';
import type { NodesOptions } from '@nodes/core';

/**
 * The server's environment: `NODES_HOST` (default 127.0.0.1), `NODES_PORT` (default 8080), `NODES_LOG_LEVEL`
 * (pino level, default info), `NODES_SHUTDOWN_TIMEOUT_MS` (default 10000), and core options:
 * `NODES_NAMESPACE`, `NODES_DEFAULT_IMAGE`, `DOCKER_HOST`, `NODES_ENGINE_TIMEOUT_MS`, `NODES_PULL_POLICY`,
 * `NODES_OUTPUT_CAP_BYTES`, `NODES_IDLE_TTL_MS` (remove nodes idle for longer; default off), and
 * `NODES_PRUNE_INTERVAL_MS` (prune every so often besides at start; default off). Who may call:
 * `NODES_TOKEN` or `NODES_TOKEN_FILE`, `NODES_ALLOWED_ORIGINS`, `NODES_ALLOWED_HOSTS` (see `accessOptionsOf`).
 * Node limits (core's `ConfigSchema`): `NODES_DEFAULT_MEMORY_BYTES`, `NODES_MAX_MEMORY_BYTES`,
 * `NODES_DEFAULT_NANO_CPUS`, `NODES_MAX_NANO_CPUS`, `NODES_DEFAULT_PIDS_LIMIT`, `NODES_MAX_PIDS_LIMIT`,
 * `NODES_MAX_NODES`; `NODES_IMAGE_ALLOWLIST` (comma-separated registries or repository prefixes);
 * `NODES_HEALTH_TIMEOUT_MS` (the longest a health check takes, default 5000).
 * `NODES_NETWORK_POOL` and `NODES_NETWORK_PREFIX_LENGTH` (where namespaces' network subnets come from),
 * `NODES_PORT_HOST_IP` (host address published ports bind to; default 127.0.0.1), `NODES_TOOLS_IMAGE` (the
 * network agent's image), `NODES_ALLOW_HOST_ACCESS` (default false) and `NODES_EGRESS` (default true). Following
 * output: `NODES_MAX_FOLLOWERS` (256), `NODES_MAX_FOLLOWERS_PER_PROCESS` (32), `NODES_FOLLOWER_QUEUE_BYTES` (4 MiB).
 * `NODES_POOL_SIZE`: warm containers kept per pooled spec (default 2 in the server; 0 turns the pool off);
 * `NODES_POOL_SPECS`: the node specs kept warm, a JSON array with the library's field names (default `[{}]`).
 */
export const ServerEnvSchema = z.object({
  NODES_HOST: z.string().min(1).default('127.0.0.1'),
  NODES_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  NODES_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODES_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  NODES_TOKEN: z.string().optional(),
  NODES_TOKEN_FILE: z.string().optional(),
  NODES_ALLOWED_ORIGINS: z.string().optional(),
  NODES_ALLOWED_HOSTS: z.string().optional(),
  NODES_NAMESPACE: z.string().optional(),
  NODES_DEFAULT_IMAGE: z.string().optional(),
  DOCKER_HOST: z.string().optional(),
  NODES_ENGINE_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
  NODES_PULL_POLICY: z.enum(['missing', 'never']).optional(),
  NODES_OUTPUT_CAP_BYTES: z.coerce.number().int().positive().optional(),
  NODES_IDLE_TTL_MS: z.coerce.number().int().positive().optional(),
  NODES_PRUNE_INTERVAL_MS: z.coerce.number().int().positive().optional(),
  NODES_DEFAULT_MEMORY_BYTES: z.coerce.number().int().positive().optional(),
  NODES_MAX_MEMORY_BYTES: z.coerce.number().int().positive().optional(),
  NODES_DEFAULT_NANO_CPUS: z.coerce.number().int().positive().optional(),
  NODES_MAX_NANO_CPUS: z.coerce.number().int().positive().optional(),
  NODES_DEFAULT_PIDS_LIMIT: z.coerce.number().int().positive().optional(),
  NODES_MAX_PIDS_LIMIT: z.coerce.number().int().positive().optional(),
  NODES_MAX_NODES: z.coerce.number().int().positive().optional(),
  NODES_NETWORK_POOL: z.string().optional(),
  NODES_PORT_HOST_IP: z.string().optional(),
  NODES_TOOLS_IMAGE: z.string().optional(),
  NODES_ALLOW_HOST_ACCESS: z.enum(['true', 'false', '1', '0']).optional(),
  NODES_EGRESS: z.enum(['true', 'false', '1', '0']).optional(),
  NODES_NETWORK_PREFIX_LENGTH: z.coerce.number().int().optional(),
  NODES_IMAGE_ALLOWLIST: z.string().optional(),
  NODES_HEALTH_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
  NODES_MAX_FOLLOWERS: z.coerce.number().int().positive().optional(),
  NODES_MAX_FOLLOWERS_PER_PROCESS: z.coerce.number().int().positive().optional(),
  NODES_FOLLOWER_QUEUE_BYTES: z.coerce.number().int().positive().optional(),
  NODES_POOL_SIZE: z.coerce.number().int().min(0).max(64).default(2),
  NODES_POOL_SPECS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON array of node specs (library field names)' });
        return z.NEVER;
      }
    })
    .pipe(z.array(z.record(z.string(), z.unknown())))
    .optional(),
});
export type ServerEnv = z.infer<typeof ServerEnvSchema>;

/** Core options from the server's environment. */
export function coreOptionsOf(env: ServerEnv): NodesOptions {
  return {
    namespace: env.NODES_NAMESPACE,
    defaultImage: env.NODES_DEFAULT_IMAGE,
    dockerHost: env.DOCKER_HOST,
    engineTimeoutMs: env.NODES_ENGINE_TIMEOUT_MS,
    pullPolicy: env.NODES_PULL_POLICY,
    outputCapBytes: env.NODES_OUTPUT_CAP_BYTES,
    idleTtlMs: env.NODES_IDLE_TTL_MS,
    defaultMemoryBytes: env.NODES_DEFAULT_MEMORY_BYTES,
    maxMemoryBytes: env.NODES_MAX_MEMORY_BYTES,
    defaultNanoCpus: env.NODES_DEFAULT_NANO_CPUS,
    maxNanoCpus: env.NODES_MAX_NANO_CPUS,
    defaultPidsLimit: env.NODES_DEFAULT_PIDS_LIMIT,
    maxPidsLimit: env.NODES_MAX_PIDS_LIMIT,
    maxNodes: env.NODES_MAX_NODES,
    networkPool: env.NODES_NETWORK_POOL,
    portHostIp: env.NODES_PORT_HOST_IP,
    toolsImage: env.NODES_TOOLS_IMAGE,
    allowHostAccess: env.NODES_ALLOW_HOST_ACCESS === undefined ? undefined : ['true', '1'].includes(env.NODES_ALLOW_HOST_ACCESS),
    egress: env.NODES_EGRESS === undefined ? undefined : ['true', '1'].includes(env.NODES_EGRESS),
    networkPrefixLength: env.NODES_NETWORK_PREFIX_LENGTH,
    healthTimeoutMs: env.NODES_HEALTH_TIMEOUT_MS,
    maxFollowers: env.NODES_MAX_FOLLOWERS,
    maxFollowersPerProcess: env.NODES_MAX_FOLLOWERS_PER_PROCESS,
    followerQueueBytes: env.NODES_FOLLOWER_QUEUE_BYTES,
    poolSize: env.NODES_POOL_SIZE,
    poolSpecs: env.NODES_POOL_SPECS,
    imageAllowlist: env.NODES_IMAGE_ALLOWLIST?.split(',').map((s) => s.trim()).filter((s) => s.length > 0),
  };
}
