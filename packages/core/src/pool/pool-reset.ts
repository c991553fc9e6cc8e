import type { ContainerEngine, ContainerSummary, NetworkEndpoint } from '../engine/container-engine.js';
import { NodeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FaultCarrier } from '../network/fault-carry.js';
import type { NetworkService } from '../network/network-service.js';
import type { NodeLocks } from '../node/node-locks.js';
import { carryProcessRecords, markProcessesLost, type CarryDeps } from '../process/carry-records.js';
import type { NodeSpec } from '../schemas/node.js';
import { specForReset, specOf } from '../node/node-records.js';
import { recordNameOf, type NamedRecord } from './pool-names.js';
import type { WarmPool } from './warm-pool.js';

/** What moving a node onto a warm container needs; `NodeService` passes its own. */
export interface SwapDeps {
  engine: ContainerEngine;
  logger: Logger;
  networks: NetworkService;
  carry: CarryDeps;
  namespace: string;
  /** the manager's locks: the move holds the namespace's addresses alone (see `NodeService.createAndStart`) */
  locks: NodeLocks;
  /** network faults (partitions, link faults) move with the node: read from the old container, put on the new */
  faults: Pick<FaultCarrier, 'read' | 'apply'>;
}

/** What a reset onto a warm container is given: the node, its container as listed, its history after this reset. */
export interface WarmReset {
  nodeId: string;
  /** the node's current container, as listed (its labels, name and networks) */
  listed: ContainerSummary;
  /** the record the new container takes: the node's history, one reset more */
  record: NamedRecord;
  /** whether the node has a fault mark (`network/fault-marks.ts`): only then are its faults read and carried */
  marked: boolean;
}

/**
 * The body of a reset onto a warm container (call it when `WarmPool.hasFree` says one is there): claims one
 * (`WarmPool.claimForReset`) while the old container leaves the namespace's networks, carries the node's process
 * records into it, moves the node's network places onto it (it leaves its own and joins them with the node's
 * aliases and the old one's addresses), and renames it to the node's record name, which makes it the node (its
 * record has one reset more than the old one's), then puts the node's network faults on it (read from the old
 * one meanwhile, for a marked node only). From the old container's leaving to the new one's joining, the
 * namespace's addresses are held alone, so that no start of this manager takes the freed ones (creates share them).
 * The old container is removed after the answer, off the request path; if that fails, `prune_nodes` removes
 * it as a `replaced_leftover`. A failure before the rename puts the old container back on its networks and
 * removes the claimed one, so the node is untouched.
 * Mirrors `POST /networks/{id}/disconnect` and `/connect`, `GET`/`PUT /containers/{id}/archive`,
 * `POST /containers/{id}/rename`, `GET /containers/{id}/json`, then `DELETE /containers/{old}`.
 * @returns the node's new container, as inspected, or undefined when no warm container could be claimed after all
 *   (the old one is back on its networks: reset cold).
 */
export async function resetOntoWarm(deps: SwapDeps, pool: Pick<WarmPool, 'claimForReset'>, reset: WarmReset): Promise<ContainerSummary | undefined> {
  const { nodeId, listed, record, marked } = reset;
  const listedSpec = specOf(listed);
  const moved = await deps.locks.run('addresses', async () => {
    // The old container's leaving is the slow part (a disconnect takes 50-150 ms here): it runs beside the claim.
    const leaving = settled(deps.networks.detach(listed));
    const claim = pool.claimForReset(listedSpec);
    // The records are read from the old container beside the claim, and copied into the claimed one meanwhile.
    const carried = carryProcessRecords(deps.carry, nodeId, listed.id, claim.then((c) => c?.container.id, () => undefined), listedSpec.user);
    const [inspected, claimed] = await Promise.all([
      // Without it the listing serves (a pooled spec has no env values to take from the old container's config).
      deps.engine.inspectContainer(listed.id).catch(() => undefined),
      claim.catch(async (error: unknown) => {
        await Promise.all([leaving, carried]);
        await putBack(deps, listed, nodeId, listedSpec);
        throw error;
      }),
    ]);
    const old = inspected ?? listed;
    const spec = specForReset(old);
    if (!claimed) {
      await Promise.all([leaving, carried]);
      await putBack(deps, listed, nodeId, spec);
      return undefined;
    }
    const staged = claimed.container;
    // Read while the node moves (the old container keeps its network namespace until it is removed).
    const faults = deps.faults.read(old.pid ? old : old.id, marked).catch((error: unknown) => {
      deps.logger.warn({ nodeId, err: String(error) }, 'could not read network faults to carry over the reset');
      return undefined;
    });
    const undo = async () => {
      await Promise.all([faults, carried]);
      await deps.engine.removeContainer(staged.id).catch(() => undefined);
      await putBack(deps, listed, nodeId, spec);
      claimed.done();
    };
    try {
      const [left] = await Promise.all([leaving, deps.networks.detach(staged)]);
      if (left) throw left;
      // The addresses as listed: the inspect may come after the old container left its networks.
      const addresses = deps.networks.addressesOf(listed, spec.networks);
      await joinAs(deps, nodeId, staged, await deps.networks.endpointsFor(nodeId, undefined, spec.networks, addresses));
    } catch (error) {
      await undo();
      throw error;
    }
    return { old, staged, faults, carried, undo, done: claimed.done };
  });
  if (!moved) return undefined;
  const { old, staged, faults, carried, undo, done } = moved;
  let unended: boolean;
  try {
    unended = await carried;
    await deps.engine.renameContainer(staged.id, recordNameOf(deps.namespace, record));
  } catch (error) {
    await undo();
    throw error;
  }
  done();
  if (unended) await markProcessesLost(deps.carry, nodeId, staged.id);
  const now = (await deps.engine.inspectContainer(staged.id)) ?? staged;
  await deps.faults.apply(nodeId, await faults, staged.id).catch((error: unknown) =>
    deps.logger.warn({ nodeId, err: String(error) }, 'could not carry network faults over the reset'),
  );
  void deps.engine.removeContainer(old.id).catch((error: unknown) => {
    if (!(error instanceof NodeError)) throw error;
    deps.logger.warn({ nodeId, containerId: old.id, err: error.message }, 'reset done; its old container could not be removed and is left to prune');
  });
  return now;
}

/** A promise that settles to the error `p` failed with, or undefined: to await it later without an unhandled rejection. */
function settled(p: Promise<void>): Promise<unknown> {
  return p.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** The claimed container joins the node's networks with its aliases and kept addresses (a new one if one was taken). */
async function joinAs(deps: SwapDeps, nodeId: string, staged: ContainerSummary, endpoints: NetworkEndpoint[]): Promise<void> {
  try {
    await deps.networks.attach(staged.id, endpoints);
  } catch (error) {
    if (!(error instanceof NodeError && /address already in use/i.test(error.message))) throw error;
    // Another manager's container took a kept address in between: the node keeps its names on a new address.
    deps.logger.warn({ nodeId, err: error.message }, 'a kept address was taken: the node gets a new one');
    await deps.networks.detach(staged);
    await deps.networks.attach(staged.id, endpoints.map((e) => ({ ...e, ipv4Address: undefined })));
  }
}

/** Puts the old container of a failed reset back on its networks with its addresses (best effort: logged). */
export async function putBack(deps: Pick<SwapDeps, 'engine' | 'logger' | 'networks'>, old: ContainerSummary, nodeId: string, spec: NodeSpec): Promise<void> {
  const addresses = deps.networks.addressesOf(old, spec.networks);
  try {
    const current = await deps.engine.inspectContainer(old.id);
    const joined = new Set((current?.networks ?? []).map((n) => n.networkId));
    const endpoints = await deps.networks.endpointsFor(nodeId, spec.name, spec.networks, addresses);
    await deps.networks.attach(old.id, endpoints.filter((e) => !joined.has(e.network)));
  } catch (error) {
    deps.logger.warn({ nodeId, containerId: old.id, err: String(error) }, 'could not put the old container back on its networks');
  }
}
