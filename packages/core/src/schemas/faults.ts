import { z } from 'zod';
import { NodeRefSchema } from './common.js';

/**
 * `partitionNodes` input: `groups` of nodes (ids or names), at least two, no node in two groups. Nodes of
 * different groups stop reaching each other; nodes of one group reach each other again; nodes not named keep
 * what they had.
 */
export const PartitionSchema = z
  .object({ groups: z.array(z.array(NodeRefSchema).min(1).max(256)).min(2).max(64) })
  .strict()
  .refine((p) => new Set(p.groups.flat()).size === p.groups.flat().length, 'a node may be in one group only');
export type Partition = z.infer<typeof PartitionSchema>;

/**
 * Link faults of a node's outgoing traffic, as Linux netem/tbf take them: `delayMs` added to every packet,
 * `jitterMs` uniform +- around it, `lossPercent` of packets dropped at random, `rateKbit` the most it sends
 * (kbit/s). Every field defaults to 0 (off); at least one must be set.
 */
export const LinkSchema = z
  .object({
    delayMs: z.number().int().min(0).max(60_000).default(0),
    jitterMs: z.number().int().min(0).max(60_000).default(0),
    lossPercent: z.number().min(0).max(100).default(0),
    rateKbit: z.number().int().min(0).max(10_000_000).default(0),
  })
  .strict()
  .refine((l) => l.delayMs + l.jitterMs + l.lossPercent + l.rateKbit > 0, 'set at least one of delayMs, jitterMs, lossPercent, rateKbit (clear_link lifts them)');
export type Link = z.output<typeof LinkSchema>;
export type LinkInput = z.input<typeof LinkSchema>;

/** A node's faults as `getNode` shows them: the nodes it is partitioned from (node ids) and its link faults. */
export const NodeFaultsSchema = z.object({
  partitionedFrom: z.array(z.string()),
  link: z.object({ delayMs: z.number(), jitterMs: z.number(), lossPercent: z.number(), rateKbit: z.number() }).optional(),
});
export type NodeFaults = z.infer<typeof NodeFaultsSchema>;
