import { z } from 'zod';
import type { ContainerEngine, ContainerSummary } from '../engine/container-engine.js';
import { NodeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { LABELS, namespaceSelector } from './labels.js';
import type { NodeLocks } from './node-locks.js';
import { currentContainers, identityOf, nodeIdOf, readSpec } from './node-records.js';
import { ACTIVITY_SCRIPT } from '../process/node-scripts.js';

/**
 * Why `pruneNodes` removed a container:
 * - `replaced_leftover`: the old container of a reset that crashed after the new one started (a container of
 *   the node with fewer resets than the node's current one, which has started);
 * - `claim_leftover`: a warm container claimed (`.K.`) by a manager that died before making it a node (a
 *   create never answered, or a reset that left its node on the old container), seen so by the pool's sweep
 *   for longer than `pruneGraceMs`;
 * - `pool_stale`: a warm-pool container not claimed that died or never started, is of a spec no longer kept
 *   warm, or is beyond the pool size (see `WarmPool.sweep`);
 * - `half_made`: created but never started, older than `pruneGraceMs`: a create or reset that crashed midway;
 * - `unreadable_labels`: carries the namespace's labels but no node id, or a spec label that is missing, not
 *   JSON or fails `NodeSpecSchema`, so it can neither be listed nor reset;
 * - `idle`: a live node whose last activity is older than `idleTtlMs` (see `lastActivityOf`);
 * - `expired`: a node created with `ttlMs` whose creation is older than that;
 * - `unused_helper`: the namespace's network agent (label `io.nodes.role`), once the namespace has no node, or
 *   the fault mark of a node that is gone (`network/fault-marks.ts`).
 */
export const PruneReasonSchema = z.enum(['replaced_leftover', 'claim_leftover', 'half_made', 'unreadable_labels', 'idle', 'expired', 'unused_helper', 'pool_stale']);
export type PruneReason = z.infer<typeof PruneReasonSchema>;

/** One container `pruneNodes` removed; `nodeId` is absent when the container carried none. */
export const PrunedContainerSchema = z.object({
  containerId: z.string(),
  nodeId: z.string().optional(),
  reason: PruneReasonSchema,
});
export type PrunedContainer = z.infer<typeof PrunedContainerSchema>;

/** What `pruneNodes` did: every container it removed, with the reason, and the names of the networks it removed. */
export const PruneResultSchema = z.object({ removed: z.array(PrunedContainerSchema), networks: z.array(z.string()) });
export type PruneResult = z.infer<typeof PruneResultSchema>;

const ASIDE_SUFFIX = /-replaced-[0-9a-f]{6}$/;

/** True when a node's container says it was created with a `ttlMs` that has run out by `nowMs`. */
function expired(c: ContainerSummary, nowMs: number): boolean {
  const ttlMs = readSpec(c)?.ttlMs;
  if (ttlMs === undefined) return false;
  const createdMs = Date.parse(identityOf(c)?.createdAt ?? c.createdAt);
  return Number.isFinite(createdMs) && nowMs - createdMs > ttlMs;
}

/**
 * The containers of a namespace that are not live nodes, with the reason (see `PruneReason`). A pure function
 * of the engine's listing, so that it can be re-run under a node's lock just before removing.
 */
export function leftoversOf(
  containers: ContainerSummary[],
  canonicalName: (c: ContainerSummary) => string,
  nowMs: number,
  graceMs: number,
): Map<string, PruneReason> {
  const found = new Map<string, PruneReason>();
  const old = (c: ContainerSummary) => nowMs - Date.parse(c.createdAt) > graceMs;
  for (const c of containers) {
    if (c.labels[LABELS.role]) continue;
    const identity = identityOf(c);
    if (!identity) {
      // Warm-pool containers that are not nodes (pooled, staged by a reset, swept) are the pool's: `WarmPool.sweep`.
      if (c.labels[LABELS.pool] === undefined) found.set(c.id, 'unreadable_labels');
    } else if (readSpec(c) === undefined) found.set(c.id, 'unreadable_labels');
    else if (c.state === 'created' && old(c)) found.set(c.id, 'half_made');
  }
  const current = currentContainers(
    containers.filter((c) => !found.has(c.id)),
    canonicalName,
  );
  for (const c of containers) {
    const identity = identityOf(c);
    const now = identity && current.get(identity.nodeId);
    if (!identity || !now || now.id === c.id || found.has(c.id)) continue;
    // Only once the replacement was started: while it is half-made (or pruned as such), the old one is the node.
    const replaced = (identityOf(now)?.resets ?? 0) > identity.resets || (ASIDE_SUFFIX.test(c.name) && now.name === canonicalName(now));
    if (now.state !== 'created' && replaced) found.set(c.id, 'replaced_leftover');
  }
  return found;
}

/** Everything `pruneNamespace` needs; `NodeService` passes its own. */
export interface PruneDeps {
  engine: ContainerEngine;
  logger: Logger;
  locks: NodeLocks;
  namespace: string;
  stateDir: string;
  canonicalName: (c: ContainerSummary) => string;
  graceMs: number;
  idleTtlMs?: number;
}

/**
 * When a node was last active, in Unix ms, or `undefined` while a process runs in it (a node at work is never
 * idle). Activity is what the engine itself records, since labels cannot change after create: the start time
 * of the node's container (`State.StartedAt`, renewed by every create and reset) and, for a running node, the
 * mtime of its process directory, which each `run_process_on_node` changes.
 */
async function lastActivityOf(deps: PruneDeps, containerId: string): Promise<number | undefined> {
  const container = await deps.engine.inspectContainer(containerId);
  if (!container) return 0;
  let last = Date.parse(container.startedAt ?? container.createdAt);
  if (container.state === 'running') {
    const result = await deps.engine.exec(containerId, { cmd: ['/bin/sh', '-c', ACTIVITY_SCRIPT, 'nodes', deps.stateDir] });
    const out = result.stdout.toString('utf8');
    if (/^alive$/m.test(out)) return undefined;
    const mtime = /^mtime (\d+)$/m.exec(out);
    if (mtime) last = Math.max(last, Number(mtime[1]) * 1000);
  }
  return last;
}

/**
 * Removes the containers of a namespace that are not live nodes (see `PruneReason`) and, when `idleTtlMs` is
 * set, the nodes idle for longer. Each node is handled under its lock, re-read from the engine first, so that a
 * reset or remove under way in this manager is never cut in half. Removal mirrors `DELETE /containers/{id}?force=true`.
 * @throws {EngineUnavailableError} when the engine does not answer the listing; later per-container failures
 *   are logged and skipped, so that one stuck container does not block the rest.
 */
export async function pruneNamespace(deps: PruneDeps): Promise<Omit<PruneResult, 'networks'>> {
  const selector = namespaceSelector(deps.namespace);
  const removed: PrunedContainer[] = [];
  const remove = async (c: ContainerSummary, reason: PruneReason) => {
    try {
      if (await deps.engine.removeContainer(c.id)) {
        removed.push({ containerId: c.id, nodeId: nodeIdOf(c), reason });
        deps.logger.info({ nodeId: nodeIdOf(c), containerId: c.id, reason }, 'pruned container');
      }
    } catch (error) {
      if (!(error instanceof NodeError)) throw error;
      deps.logger.warn({ containerId: c.id, err: error.message }, 'could not prune container');
    }
  };

  const all = await deps.engine.listContainers(selector);
  const first = leftoversOf(all, deps.canonicalName, Date.now(), deps.graceMs);
  const nodeIds = new Set<string>();
  for (const c of all) {
    const nodeId = nodeIdOf(c);
    if (c.labels[LABELS.role]) continue; // a helper, judged by NodeService.prune
    if (!nodeId && first.has(c.id)) await remove(c, first.get(c.id)!);
    else if (nodeId && (first.has(c.id) || deps.idleTtlMs !== undefined || expired(c, Date.now()))) nodeIds.add(nodeId);
  }

  await Promise.all(
    [...nodeIds].map((nodeId) =>
      deps.locks.run(nodeId, async () => {
        // Warm-pool containers carry no node id label: read the namespace, keep the node's.
        const mine = (await deps.engine.listContainers(selector)).filter((c) => nodeIdOf(c) === nodeId);
        const leftovers = leftoversOf(mine, deps.canonicalName, Date.now(), deps.graceMs);
        for (const c of mine) {
          const reason = leftovers.get(c.id);
          if (reason) await remove(c, reason);
        }
        const current = currentContainers(mine.filter((c) => !leftovers.has(c.id)), deps.canonicalName).get(nodeId);
        if (!current) return;
        if (expired(current, Date.now())) {
          for (const c of mine.filter((o) => !leftovers.has(o.id))) await remove(c, 'expired');
          return;
        }
        if (deps.idleTtlMs === undefined) return;
        try {
          const last = await lastActivityOf(deps, current.id);
          if (last !== undefined && Date.now() - last > deps.idleTtlMs) {
            for (const c of mine.filter((o) => !leftovers.has(o.id))) await remove(c, 'idle');
          }
        } catch (error) {
          if (!(error instanceof NodeError)) throw error;
          deps.logger.warn({ nodeId, err: error.message }, 'could not read node activity; left alone');
        }
      }),
    ),
  );
  return { removed };
}
