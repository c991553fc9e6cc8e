import type { NodesConfig } from '../config.js';
import type { ContainerEngine } from '../engine/container-engine.js';
import { LimitExceededError, ValidationError } from '../errors.js';
import type { NodeSpec } from '../schemas/node.js';
import { namespaceSelector } from './labels.js';
import { identityOf } from './node-records.js';

/** The limits a node's container gets: bytes of memory (no swap beyond), CPU in 1e-9 CPUs, processes and threads. */
export interface NodeLimits {
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
}

/**
 * A node's limits: its spec's where it sets them, else the config's defaults.
 * @throws {ValidationError} when the spec asks for more than an operator maximum (`maxMemoryBytes`,
 *   `maxNanoCpus`, `maxPidsLimit`).
 */
export function limitsOf(spec: NodeSpec, config: NodesConfig): NodeLimits {
  const limits = {
    memoryBytes: spec.memoryBytes ?? config.defaultMemoryBytes,
    nanoCpus: spec.nanoCpus ?? config.defaultNanoCpus,
    pidsLimit: spec.pidsLimit ?? config.defaultPidsLimit,
  };
  const over = (
    [
      ['memoryBytes', limits.memoryBytes, config.maxMemoryBytes],
      ['nanoCpus', limits.nanoCpus, config.maxNanoCpus],
      ['pidsLimit', limits.pidsLimit, config.maxPidsLimit],
    ] as const
  ).flatMap(([key, value, max]) => (max !== undefined && value > max ? [`${key}: must be at most ${max}, the operator's maximum`] : []));
  if (over.length > 0) throw new ValidationError(`invalid node spec: ${over.join('; ')}`, over);
  return limits;
}

/**
 * Keeps a namespace at most `maxNodes` nodes. Creates in flight are counted from the moment they reserve a
 * place, so concurrent creates of one manager cannot pass the cap together.
 */
export class NodeQuota {
  private readonly creating = new Set<string>();

  constructor(
    private readonly engine: ContainerEngine,
    private readonly namespace: string,
    private readonly maxNodes: number,
  ) {}

  /**
   * Reserves a place for `nodeId`; call the returned function once its create has ended, made or failed.
   * @throws {LimitExceededError} when the namespace already holds `maxNodes` nodes.
   */
  async reserve(nodeId: string): Promise<() => void> {
    this.creating.add(nodeId);
    const release = () => void this.creating.delete(nodeId);
    try {
      const containers = await this.engine.listContainers(namespaceSelector(this.namespace));
      const made = new Set(containers.map((c) => identityOf(c)?.nodeId).filter((id) => id !== undefined && !this.creating.has(id)));
      if (made.size + this.creating.size > this.maxNodes) {
        throw new LimitExceededError(
          `namespace "${this.namespace}" holds its maximum of ${this.maxNodes} nodes (maxNodes, NODES_MAX_NODES): remove nodes first`,
        );
      }
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }
}
