import { z } from 'zod';

/** Docker's smallest memory limit (bytes). */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
/** The smallest CPU share a node may get (1e9 = one CPU): 0.001 CPU. */
export const MIN_NANO_CPUS = 1_000_000;
/** The fewest processes and threads a node may be limited to: its init, main process and a few execs. */
export const MIN_PIDS_LIMIT = 16;

/**
 * Options of a node manager. Every field has a default, so `createNodeManager()` works as it is.
 * - `namespace`: nodes carry it as the label `io.nodes.namespace`; a manager sees only its namespace's nodes.
 * - `defaultImage`: image of a node whose spec names none.
 * - `dockerHost`: the engine's endpoint as the docker CLI's `DOCKER_HOST` reads it (`unix:///path`,
 *   `tcp://host:port`); default: `DOCKER_HOST` from the environment, else `unix:///var/run/docker.sock`.
 * - `engineTimeoutMs`: how long one engine request may take before it fails as `engine_unavailable` (ms).
 * - `pullPolicy`: `missing` pulls an image that is not on the engine (as `docker run` does); `never` fails.
 * - `pullTimeoutMs`: how long a pull may take (ms).
 * - `outputCapBytes`: how much of each stream (stdout, stderr) of a process is kept (bytes); the rest is cut.
 * - `stateDir`: where, inside each node, process records and output are kept.
 * - `idleTtlMs`: when set, `pruneNodes()` removes nodes idle for longer (ms): no process alive in them and none
 *   started, nor the node created or reset, within that time. Default: off.
 * - `networkPool`: IPv4 range (CIDR) the namespaces' networks take their subnets from; each network gets the
 *   first `networkPrefixLength`-bit subnet of it that no network of the engine uses. Nodes keep their address
 *   over a reset, which needs a subnet chosen by us. `networkLabels`: extra labels on the networks it creates.
 * - `portHostIp`: the host address nodes' published ports bind to (default 127.0.0.1: this host only; `0.0.0.0`
 *   exposes them to every network the host is on).
 * - `toolsImage`: image of the namespace's network agent, which needs `sh`, `nsenter`, `iptables`, `tc` and `perl`
 *   (`scripts/ensure-image --lab` builds `nodes-lab:latest`).
 * - `allowHostAccess`: whether nodes may reach the engine host's own services through their network's gateway
 *   (default false: the agent drops new connections from the namespace's bridges to the host).
 * - `egress`: whether nodes may reach beyond the engine host (default true, as Docker does; false drops
 *   forwarded traffic out of the namespace's bridges).
 * - `maxFileBytes`: the largest file `writeFile` takes (bytes, default 1 GiB); `maxListEntries`: the most
 *   entries `listFiles` returns (default 10000).
 * - `maxFollowersPerProcess`, `maxFollowers`: how many followers of output (`followOutput`, SSE) one process, and
 *   the manager in all, may have; past them following fails with `LimitExceededError` (default 32 and 256).
 * - `followerQueueBytes`: how much output may wait for a follower that does not take it before it is dropped
 *   (bytes, default 4 MiB).
 * - `pruneGraceMs`: how old a container that was created but never started must be before `pruneNodes()` takes
 *   it for a crashed create or reset and removes it (ms).
 * - Limits of every node, which a node spec may change up to the maximums: `defaultMemoryBytes` (512 MiB, no
 *   swap beyond it) up to `maxMemoryBytes` (8 GiB); `defaultNanoCpus` (1e9 = one CPU) up to `maxNanoCpus`
 *   (default: as many as the engine's host has); `defaultPidsLimit` (1024 processes and threads) up to
 *   `maxPidsLimit` (32768).
 * - `maxNodes`: how many nodes the namespace may hold (200); a create past it fails with `limit_exceeded`.
 * - `healthTimeoutMs`: the longest `getHealth()` takes whatever the engine does (ms); past it the engine is
 *   reported as not answering.
 * - `imageAllowlist`: when set, the only registries (`docker.io`, `registry.local:5000`) or repository prefixes
 *   (`ghcr.io/acme`) node images may come from; others are refused before the engine is asked. Default: any.
 * - `poolSize`: warm containers kept per pooled spec (0, the library's default, turns the pool off; the
 *   server's default is 2, `NODES_POOL_SIZE`). `poolSpecs`: the node specs kept warm (default `[{}]`, the
 *   default spec); a spec asked for 3 times is kept warm too while it stays among the 4 most recent such.
 *   Specs with a `name`, `env` or ports are never pooled. See `WarmPool`.
 */
export const ConfigSchema = z
  .object({
    namespace: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9, _, . and -')
      .default('default'),
    defaultImage: z.string().min(1).default('busybox:latest'),
    dockerHost: z.string().min(1).optional(),
    engineTimeoutMs: z.number().int().positive().default(30_000),
    pullPolicy: z.enum(['missing', 'never']).default('missing'),
    pullTimeoutMs: z.number().int().positive().default(300_000),
    outputCapBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    stateDir: z
      .string()
      .regex(/^\/[A-Za-z0-9_./-]*$/, 'must be an absolute path of letters, digits, _, ., / and -')
      .default('/tmp/.nodes'),
    idleTtlMs: z.number().int().positive().optional(),
    maxFollowersPerProcess: z.number().int().positive().default(32),
    maxFollowers: z.number().int().positive().default(256),
    followerQueueBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
    pruneGraceMs: z.number().int().nonnegative().default(10_000),
    defaultMemoryBytes: z.number().int().min(MIN_MEMORY_BYTES).default(512 * 1024 * 1024),
    maxMemoryBytes: z.number().int().min(MIN_MEMORY_BYTES).default(8 * 1024 * 1024 * 1024),
    defaultNanoCpus: z.number().int().min(MIN_NANO_CPUS).default(1_000_000_000),
    maxNanoCpus: z.number().int().min(MIN_NANO_CPUS).optional(),
    defaultPidsLimit: z.number().int().min(MIN_PIDS_LIMIT).default(1024),
    maxPidsLimit: z.number().int().min(MIN_PIDS_LIMIT).default(32_768),
    maxNodes: z.number().int().positive().default(200),
    healthTimeoutMs: z.number().int().positive().default(5000),
    networkPool: z
      .string()
      .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 CIDR such as "10.213.0.0/16"')
      .default('10.213.0.0/16'),
    networkPrefixLength: z.number().int().min(16).max(29).default(24),
    networkLabels: z.record(z.string().min(1), z.string()).default({}),
    portHostIp: z.ipv4().default('127.0.0.1'),
    toolsImage: z.string().min(1).default('nodes-lab:latest'),
    allowHostAccess: z.boolean().default(false),
    egress: z.boolean().default(true),
    imageAllowlist: z.array(z.string().regex(/^[a-z0-9][a-z0-9._\-/:]*$/i, 'must be a registry or repository such as "docker.io" or "ghcr.io/acme"')).optional(),
    maxFileBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024 * 1024),
    maxListEntries: z.number().int().positive().default(10_000),
    poolSize: z.number().int().min(0).max(64).default(0),
    poolSpecs: z.array(z.record(z.string(), z.unknown())).default([{}]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const pairs = [
      ['defaultMemoryBytes', c.defaultMemoryBytes, c.maxMemoryBytes],
      ['defaultNanoCpus', c.defaultNanoCpus, c.maxNanoCpus],
      ['defaultPidsLimit', c.defaultPidsLimit, c.maxPidsLimit],
    ] as const;
    for (const [key, value, max] of pairs) {
      if (max !== undefined && value > max) ctx.addIssue({ code: 'custom', path: [key], message: `must be at most its maximum, ${max}` });
    }
  });
export type NodesConfig = z.output<typeof ConfigSchema>;
export type NodesOptions = z.input<typeof ConfigSchema>;
