import { inject, injectable } from 'tsyringe';
import type { ContainerEngine } from '../engine/container-engine.js';
import type { Logger } from '../logger.js';
import { TOKENS } from '../tokens.js';
import { NetworkAgent } from './agent.js';
import { byPid } from './agent-output.js';

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
   * addresses, so peers' blocks still hold). Only when the namespace has an agent: without one there are none.
   */
  async carry(nodeId: string, oldId: string, newId: string): Promise<void> {
    if (!(await this.agent.find())) return;
    const [old, now] = await Promise.all([this.engine.inspectContainer(oldId), this.engine.inspectContainer(newId)]);
    if (!old?.pid || !now?.pid) return;
    const partition = await this.agent.run('partition', ['show', String(old.pid)], 'reading partitions');
    const ips = byPid(partition.stdout).get(old.pid) ?? [];
    if (ips.length > 0) await this.agent.run('partition', ['set', `${now.pid}=${ips.join(',')}`], `carrying the partition of node "${nodeId}"`);
    const link = await this.agent.run('link', ['show', String(old.pid)], 'reading link faults');
    const [values] = byPid(link.stdout).get(old.pid) ?? [];
    if (values) await this.agent.run('link', ['set', String(now.pid), ...values.split(' ')], `carrying the link faults of node "${nodeId}"`);
    this.logger.info({ nodeId, partitioned: ips.length > 0, link: !!values }, 'faults carried over the reset');
  }

}
