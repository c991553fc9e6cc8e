import type { ContainerEngine, ContainerSummary } from '../engine/container-engine.js';
import { NodeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FaultCarrier } from '../network/fault-carry.js';
import type { NetworkService } from '../network/network-service.js';
import type { NodeLocks } from '../node/node-locks.js';
import { carryProcessRecords, markProcessesLost, type CarryDeps } from '../process/carry-records.js';
import type { NodeSpec } from '../schemas/node.js';
import { recordNameOf, type NamedRecord } from './pool-names.js';

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

/**
 * The body of a reset onto a warm container the pool has staged for it (`WarmPool.claimForReset`): carries the
 * node's process records into it, moves the node's network places (both containers leave the namespace's
 * networks, then the staged one joins them with the node's aliases and the old one's addresses), and renames
 * it to the node's record name, which makes it the node (its record has one reset more than the old one's),
 * then puts the node's network faults on it (read from the old one meanwhile).
 * The old container is removed after the answer, off the request path; if that fails, `prune_nodes` removes
 * it as a `replaced_leftover`. A failure before the rename puts the old container back on its networks and
 * removes the staged one, so the node is untouched.
 * Mirrors `GET`/`PUT /containers/{id}/archive`, `POST /networks/{id}/disconnect` and `/connect`,
 * `POST /containers/{id}/rename`, `GET /containers/{id}/json`, then `DELETE /containers/{old}`.
 * @returns the node's new container, as inspected.
 */
export async function swapOntoWarm(
  deps: SwapDeps,
  old: ContainerSummary,
  staged: ContainerSummary,
  record: NamedRecord,
  spec: NodeSpec,
): Promise<ContainerSummary> {
  const { nodeId } = record;
  const addresses = deps.networks.addressesOf(old, spec.networks);
  // Read while the node moves (the old container keeps its network namespace until it is removed).
  const faults = deps.faults.read(old.pid ? old : old.id).catch((error: unknown) => {
    deps.logger.warn({ nodeId, err: String(error) }, 'could not read network faults to carry over the reset');
    return undefined;
  });
  let unended: boolean;
  try {
    // Disconnects are the slow part (100-150 ms here): the records are carried meanwhile. From the old container's
    // leaving to the new one's joining, no start of this manager may take the freed addresses.
    const carried = carryProcessRecords(deps.carry, nodeId, old.id, staged.id);
    await deps.locks.run('addresses', async () => {
      await Promise.all([carried, deps.networks.detach(old), deps.networks.detach(staged)]);
      const endpoints = await deps.networks.endpointsFor(nodeId, undefined, spec.networks, addresses);
      try {
        await deps.networks.attach(staged.id, endpoints);
      } catch (error) {
        if (!(error instanceof NodeError && /address already in use/i.test(error.message))) throw error;
        // Another manager's container took a kept address in between: the node keeps its names on a new address.
        deps.logger.warn({ nodeId, err: error.message }, 'a kept address was taken: the node gets a new one');
        await deps.networks.detach(staged);
        await deps.networks.attach(staged.id, endpoints.map((e) => ({ ...e, ipv4Address: undefined })));
      }
    });
    unended = await carried;
    await deps.engine.renameContainer(staged.id, recordNameOf(deps.namespace, record));
  } catch (error) {
    await faults;
    await deps.engine.removeContainer(staged.id).catch(() => undefined);
    await putBack(deps, old, nodeId, spec);
    throw error;
  }
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
