import { z } from 'zod';

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
 * - `pruneGraceMs`: how old a container that was created but never started must be before `pruneNodes()` takes
 *   it for a crashed create or reset and removes it (ms).
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
    pruneGraceMs: z.number().int().nonnegative().default(10_000),
  })
  .strict();
export type NodesConfig = z.output<typeof ConfigSchema>;
export type NodesOptions = z.input<typeof ConfigSchema>;
