import { z } from 'zod';
import { ContainerStateSchema, NodeIdSchema } from './common.js';

/** Why health is not `good`: the engine did not answer, or a node's container is not running. */
export const HealthReasonSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('engine'), code: z.string(), message: z.string() }),
  z.object({
    kind: z.literal('node'),
    nodeId: NodeIdSchema,
    state: ContainerStateSchema,
    exitCode: z.number().int().optional(),
    /** the node's main process was ended by the out-of-memory killer (`State.OOMKilled`) */
    oomKilled: z.boolean().optional(),
    message: z.string(),
  }),
]);
export type HealthReason = z.infer<typeof HealthReasonSchema>;

/**
 * The answer of `getHealth()`: `good` when the engine answers and every node's container is running.
 * `nodes` counts the namespace's nodes by state; `engine` gives the engine's version when it answered;
 * `checkedAt` is ISO 8601 and `durationMs` is how long the check took.
 */
export const HealthSchema = z.object({
  health: z.enum(['good', 'bad']),
  reasons: z.array(HealthReasonSchema),
  engine: z.object({ endpoint: z.string(), version: z.string().optional(), apiVersion: z.string().optional() }),
  nodes: z.object({ total: z.number().int(), running: z.number().int() }),
  checkedAt: z.string(),
  durationMs: z.number(),
});
export type Health = z.infer<typeof HealthSchema>;
