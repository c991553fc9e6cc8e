import { inject, injectable } from 'tsyringe';
import type { ContainerEngine, ContainerSummary } from '../engine/container-engine.js';
import type { Logger } from '../logger.js';
import { TOKENS } from '../tokens.js';
import { NetworkAgent } from './agent.js';
import { byPid } from './agent-output.js';

/** A node's partition (blocked peer addresses) and link faults (the `link set` values), read from a container. */
export interface CarriedFaults {
  ips: string[];
  link?: string;
}

/** Carries a node's network faults over a reset; `NodeService` calls it between the new start and the old removal. */
@injectable()
export class FaultCarrier {
  constructor(
    @inject(TOKENS.ContainerEngine) private readonly engine: ContainerEngine,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(NetworkAgent) private readonly agent: NetworkAgent,
  ) {}

  /**
   * Carries a node's partition and link faults from its old container to the new one of a reset (same
   * addresses, so peers' blocks still hold). Only for a node with a fault mark (`marked`, see `fault-marks.ts`)
   * in a namespace with an agent: other nodes have none.
   */
  async carry(nodeId: string, oldId: string, newId: string, marked: boolean): Promise<void> {
    await this.apply(nodeId, await this.read(oldId, marked), newId);
  }

  /**
   * A node's faults as its old container holds them (two agent reads, side by side), to `apply` to the new one
   * once it is on the node's networks: a reset onto a warm container reads them while it moves the node.
   * Undefined, with nothing read, for a node without a fault mark (`marked` false).
   */
  async read(oldContainer: string | ContainerSummary, marked: boolean): Promise<CarriedFaults | undefined> {
    if (!marked || !(await this.agent.find())) return undefined;
    // An inspected container already says its pid: no inspect that would wait behind the container's disconnect.
    const old = typeof oldContainer === 'string' ? await this.engine.inspectContainer(oldContainer) : oldContainer;
    if (!old?.pid) return undefined;
    const [partition, link] = await Promise.all([
      this.agent.run('partition', ['show', String(old.pid)], 'reading partitions'),
      this.agent.run('link', ['show', String(old.pid)], 'reading link faults'),
    ]);
    return { ips: byPid(partition.stdout).get(old.pid) ?? [], link: byPid(link.stdout).get(old.pid)?.[0] };
  }

  /** Puts faults `read` from a node's old container on its new one. */
  async apply(nodeId: string, faults: CarriedFaults | undefined, newId: string): Promise<void> {
    if (!faults || (faults.ips.length === 0 && !faults.link)) return;
    const now = await this.engine.inspectContainer(newId);
    if (!now?.pid) return;
    if (faults.ips.length > 0) await this.agent.run('partition', ['set', `${now.pid}=${faults.ips.join(',')}`], `carrying the partition of node "${nodeId}"`);
    if (faults.link) await this.agent.run('link', ['set', String(now.pid), ...faults.link.split(' ')], `carrying the link faults of node "${nodeId}"`);
    this.logger.info({ nodeId, partitioned: faults.ips.length > 0, link: !!faults.link }, 'faults carried over the reset');
  }

}
