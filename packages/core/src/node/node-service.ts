import { randomBytes } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { NodesConfig } from '../config.js';
import type { ContainerEngine, ContainerSummary } from '../engine/container-engine.js';
import { ConflictError, NodeError, NodeNotFoundError, ValidationError } from '../errors.js';
import { ImageService } from '../image/image-service.js';
import type { Logger } from '../logger.js';
import { NetworkAgent } from '../network/agent.js';
import { FaultCarrier } from '../network/fault-carry.js';
import { NetworkService } from '../network/network-service.js';
import { hostPortsOf } from '../network/node-ports.js';
import { NodeIdSchema, NodeRefSchema, type NodeId } from '../schemas/common.js';
import { NodeSpecInputSchema, type NodeInfo, type NodeSpec } from '../schemas/node.js';
import { parseInput } from '../schemas/parse.js';
import { TOKENS } from '../tokens.js';
import { carryProcessRecords, markProcessesLost, type CarryDeps } from '../process/carry-records.js';
import { LABELS, canonicalNameOf, containerNameOf, namespaceSelector } from './labels.js';
import { NodeLocks } from './node-locks.js';
import { NodeQuota, limitsOf } from './node-limits.js';
import { assertNoLegacyHolder, currentContainers, identityOf, nodeIdOf, redactSpec, specForReset, specOf, toNodeInfo } from './node-records.js';
import { pruneNamespace, type PruneResult } from './prune.js';
import { WarmPool } from '../pool/warm-pool.js';
import { putBack, resetOntoWarm } from '../pool/pool-reset.js';
import { isFaultMark } from '../network/fault-marks.js';
import { ContainerMaker } from './container-maker.js';
import { containersOfNode } from './node-lookup.js';

export { KEEPALIVE_COMMAND } from './container-options.js';

/** Node lifecycle on the engine: create, remove, reset, list, get. The engine's labels are the only record. */
@injectable()
export class NodeService {
  constructor(
    @inject(TOKENS.ContainerEngine) private readonly engine: ContainerEngine,
    @inject(TOKENS.Config) private readonly config: NodesConfig,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(ImageService) private readonly images: ImageService,
    @inject(NodeLocks) private readonly locks: NodeLocks,
    @inject(NetworkService) private readonly networks: NetworkService,
    @inject(FaultCarrier) private readonly faultCarrier: FaultCarrier,
    @inject(NetworkAgent) private readonly agent: NetworkAgent,
    @inject(WarmPool) private readonly pool: WarmPool,
  ) {
    this.quota = new NodeQuota(engine, config.namespace, config.maxNodes);
    this.maker = new ContainerMaker(engine, config, logger, images, locks, networks);
  }

  private readonly quota: NodeQuota;
  private readonly maker: ContainerMaker;

  /**
   * The node id of a node named by id or by name (schema `NodeRefSchema`). A name is looked up among the
   * namespace's containers by its `io.nodes.node-name` label.
   * @throws {ValidationError} when `ref` is neither. @throws {NodeNotFoundError} when no node has that name.
   */
  async resolveId(ref: unknown): Promise<NodeId> {
    const value = parseInput(NodeRefSchema, ref, 'node id');
    if (NodeIdSchema.safeParse(value).success) return value;
    const containers = await this.engine.listContainers({ ...namespaceSelector(this.config.namespace), [LABELS.nodeName]: value });
    const [current] = currentContainers(containers, this.canonicalName).values();
    if (!current) throw new NodeNotFoundError(value);
    return current.labels[LABELS.nodeId] as NodeId;
  }

  private get carry(): CarryDeps {
    return { engine: this.engine, logger: this.logger, stateDir: this.config.stateDir, capBytes: this.config.outputCapBytes };
  }

  private canonicalName = (c: ContainerSummary): string => canonicalNameOf(this.config.namespace, c);

  /**
   * The container that currently backs a node.
   * @throws {NodeNotFoundError} when the namespace has no container for it.
   */
  async containerOf(nodeId: NodeId): Promise<ContainerSummary> {
    return (await this.lookup(nodeId)).current;
  }

  /**
   * A node's current container, and whether the node has a fault mark (`network/fault-marks.ts`), from one
   * lookup of its containers (`containersOfNode`).
   * @throws {NodeNotFoundError} when the namespace has no container for it.
   */
  private async lookup(nodeId: string): Promise<{ current: ContainerSummary; marked: boolean }> {
    const all = await containersOfNode(this.engine, this.config.namespace, nodeId);
    const current = currentContainers(all, this.canonicalName).get(nodeId);
    if (!current) throw new NodeNotFoundError(nodeId);
    return { current, marked: all.some((c) => isFaultMark(c, nodeId)) };
  }

  /** Runs `fn` holding the node's lock (shared with process starts), so operations on one node never interleave. */
  withNodeLock<T>(nodeId: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(nodeId, fn);
  }

  /** Runs `fn` holding the node's lock shared: beside other shared holders (process starts), never during a reset or remove. */
  withSharedNodeLock<T>(nodeId: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.runShared(nodeId, fn);
  }

  /**
   * Runs `fn` holding the lock of a container name. A reset frees its node's name for a moment (the old container
   * is renamed aside before the new one takes the name): without this lock a create of the same name could take
   * it in between and leave the reset node under its aside name. Taken after the node lock, never before.
   */
  private withNameLock<T>(containerName: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(`name:${containerName}`, fn);
  }

  /**
   * Creates a node: one container from `spec` (schema `NodeSpecInputSchema`), labelled with the node id, namespace and
   * spec, started with an init process. Mirrors `POST /containers/create` then `/containers/{id}/start`; pulls
   * the image first when it is missing. A container that fails to start is removed again.
   * @returns the running node (schema `NodeSchema`).
   * The container gets the node's limits (`limitsOf`), `no-new-privileges` and the spec's `user`.
   * @throws {ValidationError} when the spec is invalid, asks for more than an operator maximum or names an image
   *   outside the operator's allowlist (checked before the engine is asked anything).
   * @throws {LimitExceededError} when the namespace already holds `maxNodes` nodes.
   * @throws {ConflictError} when a node of the namespace already has this name.
   * @throws {ImageUnavailableError} when the image is missing and cannot be pulled.
   * @throws {EngineUnavailableError} when the engine does not answer.
   */
  async create(specInput: unknown = {}): Promise<NodeInfo> {
    const spec = parseInput(NodeSpecInputSchema, specInput ?? {}, 'node spec');
    if (spec.name && NodeIdSchema.safeParse(spec.name).success) {
      throw new ValidationError('invalid node spec: name: must not look like a node id', ['name: must not look like a node id']);
    }
    limitsOf(spec, this.config);
    this.images.assertAllowed(spec.image ?? this.config.defaultImage);
    const nodeId = `n-${randomBytes(6).toString('hex')}`;
    const release = await this.quota.reserve(nodeId);
    const leave = this.pool.enter();
    let container: ContainerSummary;
    try {
      const warm = await this.pool.claimForCreate(spec);
      if (warm) {
        this.logger.info({ nodeId: identityOf(warm)?.nodeId, containerId: warm.id, image: warm.image }, 'node created from the warm pool');
        return toNodeInfo(warm, true);
      }
      container = await this.withNameLock(containerNameOf(this.config.namespace, nodeId, spec.name), async () => {
        if (spec.name) await assertNoLegacyHolder(this.engine, this.config.namespace, spec.name);
        return this.maker.createContainer(nodeId, spec, { createdAt: new Date().toISOString(), resets: 0 });
      });
    } finally {
      leave();
      release();
    }
    this.logger.info({ nodeId, containerId: container.id, image: spec.image ?? this.config.defaultImage }, 'node created');
    return toNodeInfo(container, true);
  }

  /**
   * Removes a node: kills and removes its container (`DELETE /containers/{id}?force=true&v=true`).
   * @throws {ValidationError} when `nodeId` is not a node id.
   * @throws {NodeNotFoundError} when the namespace has no such node (also on a second remove).
   */
  async remove(nodeIdInput: unknown): Promise<void> {
    const nodeId = await this.resolveId(nodeIdInput);
    await this.withNodeLock(nodeId, async () => {
      const all = await containersOfNode(this.engine, this.config.namespace, nodeId);
      const containers = all.filter((c) => nodeIdOf(c) === nodeId);
      if (containers.length === 0) throw new NodeNotFoundError(nodeId);
      // A crash mid-reset can leave a second container: remove every one that carries the node id, and its fault mark.
      const marks = all.filter((c) => isFaultMark(c, nodeId));
      const removed = await Promise.all(containers.map((c) => this.engine.removeContainer(c.id)));
      if (!removed.some(Boolean)) throw new NodeNotFoundError(nodeId);
      await Promise.all(marks.map((c) => this.engine.removeContainer(c.id).catch(() => false)));
      this.logger.info({ nodeId }, 'node removed');
    });
  }

  /**
   * Resets a node: recreates its container from the same spec under the same node id, so it comes back with a
   * fresh filesystem and no processes. The old container is renamed aside, the new one created and started,
   * then the old one removed; when the new one fails, the old one is put back, so a failed reset loses nothing.
   * When only the old one's removal fails, the reset still succeeds and `prune()` removes the old one later.
   * @returns the node with its new container id.
   * @throws {NodeNotFoundError} when the namespace has no such node.
   * @throws {ImageUnavailableError} when the node's image is gone and cannot be pulled.
   */
  async reset(nodeIdInput: unknown): Promise<NodeInfo> {
    const nodeId = await this.resolveId(nodeIdInput);
    const leave = this.pool.enter();
    try {
      return await this.withNodeLock(nodeId, async () => {
        const { current, marked } = await this.lookup(nodeId);
        return this.withNameLock(this.canonicalName(current), () => this.replace(nodeId, current, marked));
      });
    } finally {
      leave();
    }
  }

  /** The body of a reset, under the node's and its name's locks; `marked`: the node has a fault mark. */
  private async replace(nodeId: string, listed: ContainerSummary, marked: boolean): Promise<NodeInfo> {
    const identity = identityOf(listed) ?? { nodeId, createdAt: listed.createdAt, resets: 0 };
    const history = { createdAt: identity.createdAt, resets: identity.resets + 1, resetAt: new Date().toISOString() };
    if (this.pool.hasFree(specOf(listed))) {
      const deps = {
        engine: this.engine,
        logger: this.logger,
        networks: this.networks,
        carry: this.carry,
        namespace: this.config.namespace,
        faults: this.faultCarrier,
        locks: this.locks,
      };
      const container = await resetOntoWarm(deps, this.pool, { nodeId, listed, record: { nodeId, ...history }, marked });
      if (container) {
        this.logger.info({ nodeId, containerId: container.id }, 'node reset onto a warm container');
        return toNodeInfo(container, true);
      }
    }
    const old = (await this.engine.inspectContainer(listed.id)) ?? listed;
    const spec = specForReset(old);
    await this.images.ensure(spec.image ?? this.config.defaultImage);
    const canonical = this.canonicalName(old);
    const aside = `${canonical}-replaced-${randomBytes(3).toString('hex')}`;
    if (old.name === canonical) await this.engine.renameContainer(old.id, aside);
    let container: ContainerSummary;
    let unended = true;
    try {
      container = await this.maker.createContainer(
        nodeId,
        spec,
        history,
        // Records go in before the start: once the new container runs, readers pick it, and it must hold them.
        // The old container leaves its networks just before (which frees its host ports too), so that the new one
        // can take its addresses and ports.
        async (newId) => {
          unended = await carryProcessRecords(this.carry, nodeId, old.id, newId, spec.user);
          await this.networks.detach(old);
        },
        // Addresses and engine-picked host ports are pinned to what the old container had.
        { addresses: this.networks.addressesOf(old, spec.networks), hostPorts: hostPortsOf(old) },
      );
    } catch (error) {
      await this.engine.renameContainer(old.id, canonical).catch(() => undefined);
      await putBack({ engine: this.engine, logger: this.logger, networks: this.networks }, old, nodeId, spec);
      throw error;
    }
    if (unended) await markProcessesLost(this.carry, nodeId, container.id);
    await this.carryFaults(nodeId, old.id, container.id, marked);
    try {
      await this.engine.removeContainer(old.id);
    } catch (error) {
      if (!(error instanceof NodeError)) throw error;
      // The node already runs on its new container: the reset succeeded. The old one, renamed aside with the
      // `-replaced-` suffix, is a `replaced_leftover` to prune_nodes.
      this.logger.warn({ nodeId, containerId: old.id, err: error.message }, 'reset done; its old container could not be removed and is left to prune');
    }
    this.logger.info({ nodeId, containerId: container.id }, 'node reset');
    return toNodeInfo(container, true);
  }

  /** Partitions and link faults live in the old container's network namespace: put them in the new one's. */
  private async carryFaults(nodeId: string, oldId: string, newId: string, marked: boolean): Promise<void> {
    await this.faultCarrier.carry(nodeId, oldId, newId, marked).catch((error: unknown) =>
      this.logger.warn({ nodeId, err: String(error) }, 'could not carry network faults over the reset'),
    );
  }

  /** Every node of the namespace, as the engine records them (`GET /containers/json` filtered by label). */
  async list(): Promise<NodeInfo[]> {
    const containers = await this.engine.listContainers(namespaceSelector(this.config.namespace));
    return [...currentContainers(containers, this.canonicalName).values()]
      .map((c) => toNodeInfo(c))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.nodeId.localeCompare(b.nodeId));
  }

  /**
   * One node, as the engine records it.
   * @throws {NodeNotFoundError} when the namespace has no such node.
   */
  async get(nodeIdInput: unknown): Promise<NodeInfo> {
    return (await this.getMarked(nodeIdInput)).node;
  }

  /**
   * One node, as `get` gives it, and whether it has a fault mark (`network/fault-marks.ts`): only a marked node
   * may hold network faults.
   * @throws {NodeNotFoundError} when the namespace has no such node.
   */
  async getMarked(nodeIdInput: unknown): Promise<{ node: NodeInfo; marked: boolean }> {
    const nodeId = await this.resolveId(nodeIdInput);
    const { current, marked } = await this.lookup(nodeId);
    // Inspect, not the listing, reports the node's network aliases.
    return { node: toNodeInfo((await this.engine.inspectContainer(current.id)) ?? current, true), marked };
  }

  /**
   * Removes the namespace's containers that are not live nodes: leftovers of crashed resets, containers created
   * but never started (older than `pruneGraceMs`), containers with unreadable labels, and, when `idleTtlMs` is
   * set, idle nodes. See `pruneNamespace` in `prune.ts` for the rules. Then sweeps the warm pool and fills it
   * back to `poolSize` per wanted spec (`WarmPool.sweep`, `fillNow`). Then removes the namespace's networks
   * that no container uses any more (`DELETE /networks/{id}`).
   * @returns schema `PruneResultSchema`: every removed container with its reason.
   * @throws {EngineUnavailableError} when the engine does not answer.
   */
  async prune(): Promise<PruneResult> {
    const result = await pruneNamespace({
      engine: this.engine,
      logger: this.logger,
      locks: this.locks,
      namespace: this.config.namespace,
      stateDir: this.config.stateDir,
      canonicalName: this.canonicalName,
      graceMs: this.config.pruneGraceMs,
      idleTtlMs: this.config.idleTtlMs,
    });
    // The warm pool: stale, unwanted and excess containers go, then it is filled back to its size, so that a
    // prune leaves exactly `poolSize` warm containers per wanted spec.
    result.removed.push(...(await this.pool.sweep()));
    await this.pool.fillNow();
    // Networks go last: the containers just removed no longer hold them. Then the agent, once no node is left.
    const networks = await this.networks.pruneUnused();
    const left = await this.engine.listContainers(namespaceSelector(this.config.namespace));
    // Fault marks of nodes that are gone (removed by another manager, or by hand).
    const live = new Set(left.map((c) => identityOf(c)?.nodeId).filter((id) => id !== undefined));
    for (const mark of left.filter((c) => isFaultMark(c) && !live.has(c.labels[LABELS.faultsOf] ?? ''))) {
      if (await this.engine.removeContainer(mark.id).catch(() => false)) result.removed.push({ containerId: mark.id, reason: 'unused_helper' });
    }
    if (!left.some((c) => identityOf(c))) {
      for (const containerId of await this.agent.remove()) result.removed.push({ containerId, reason: 'unused_helper' });
    }
    return { ...result, networks };
  }
}
