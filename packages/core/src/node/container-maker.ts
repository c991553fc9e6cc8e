import type { NodesConfig } from '../config.js';
import type { ContainerEngine, ContainerSummary, NetworkEndpoint } from '../engine/container-engine.js';
import { ConflictError, EngineError, NodeError, WrongStateError } from '../errors.js';
import type { ImageService } from '../image/image-service.js';
import type { Logger } from '../logger.js';
import type { AddressBook, NetworkService } from '../network/network-service.js';
import { bindingsOf, type HostPorts } from '../network/node-ports.js';
import type { NodeSpec } from '../schemas/node.js';
import { containerOptionsOf, specLabelsOf } from './container-options.js';
import { LABELS, containerNameOf } from './labels.js';
import type { NodeLocks } from './node-locks.js';
import { START_WATCH_MS, StartWatch } from './start-watch.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The create path of a node's container, shared by create and reset: labels, create with retries, networks,
 * start, and the check that its main process is up. Made by `NodeService` with its collaborators.
 */
export class ContainerMaker {
  private readonly startWatch: StartWatch;

  constructor(
    private readonly engine: ContainerEngine,
    private readonly config: NodesConfig,
    private readonly logger: Logger,
    private readonly images: ImageService,
    private readonly locks: NodeLocks,
    private readonly networks: NetworkService,
  ) {
    this.startWatch = new StartWatch(engine, logger);
  }

  /**
   * Creates and starts a node's container; on any failure after the create, removes it again. `beforeStart`
   * runs on the created container before it starts, while readers still see the node's previous container.
   * Engine calls: create, start, inspect (its answer is the node's record and the check that the main process
   * is up); a spec with its own command also watches for a `die` event for `START_WATCH_MS` (see `StartWatch`).
   * @returns the started container, as inspected.
   */
  async createContainer(
    nodeId: string,
    spec: NodeSpec,
    history: { createdAt: string; resets: number; resetAt?: string },
    beforeStart?: (containerId: string) => Promise<void>,
    kept: { addresses?: AddressBook; hostPorts?: HostPorts } = {},
  ): Promise<ContainerSummary> {
    const image = spec.image ?? this.config.defaultImage;
    await this.images.ensure(image);
    const labels: Record<string, string> = {
      ...specLabelsOf(spec, this.config.namespace),
      [LABELS.nodeId]: nodeId,
      [LABELS.createdAt]: history.createdAt,
      [LABELS.resets]: String(history.resets),
    };
    if (spec.name) labels[LABELS.nodeName] = spec.name;
    if (history.resetAt) labels[LABELS.resetAt] = history.resetAt;
    const name = containerNameOf(this.config.namespace, nodeId, spec.name);
    // Only a command of the spec's own can exit at once; subscribing runs beside the create.
    const watch = spec.command === undefined ? undefined : this.startWatch.hold();
    try {
      return await this.createAndStart(nodeId, spec, { image, labels, name }, beforeStart, kept, watch);
    } finally {
      watch?.release();
    }
  }

  private async createAndStart(
    nodeId: string,
    spec: NodeSpec,
    made: { image: string; labels: Record<string, string>; name: string },
    beforeStart: ((containerId: string) => Promise<void>) | undefined,
    kept: { addresses?: AddressBook; hostPorts?: HostPorts },
    watch: ReturnType<StartWatch['hold']> | undefined,
  ): Promise<ContainerSummary> {
    const { image, labels, name } = made;
    const addresses = kept.addresses ?? {};
    let containerId: string | undefined;
    let endpoints = await this.networks.endpointsFor(nodeId, spec.name, spec.networks, addresses);
    for (let attempt = 0; containerId === undefined; attempt++) {
      try {
        containerId = await this.engine.createContainer(
          containerOptionsOf(spec, this.config, {
            name,
            hostname: spec.name ?? nodeId,
            labels,
            network: endpoints[0],
            ports: bindingsOf(spec.ports, this.config.portHostIp, kept.hostPorts),
          }),
        );
      } catch (error) {
        if (error instanceof EngineError && error.statusCode === 404 && /network/i.test(error.message) && attempt < 2) {
          // Another manager pruned the namespace's network since this one last saw it: make it again.
          this.networks.forget();
          endpoints = await this.networks.endpointsFor(nodeId, spec.name, spec.networks, addresses);
          continue;
        }
        if (error instanceof EngineError && error.statusCode === 404 && /no such image/i.test(error.message) && attempt < 2) {
          // The image went away since it was last seen: ask again (and pull, as the policy says).
          this.images.forget(image);
          await this.images.ensure(image);
          continue;
        }
        if (!(error instanceof ConflictError)) throw error;
        // Right after a removal the engine may still hold the name for a moment: retry briefly, then decide.
        const holder = await this.engine.inspectContainer(name);
        if (holder && holder.labels[LABELS.nodeId] !== nodeId) {
          throw new ConflictError(`a node named "${spec.name ?? nodeId}" already exists in namespace "${this.config.namespace}"`, { cause: error });
        }
        if (attempt >= 20) throw error;
        await sleep(50 * (attempt + 1));
      }
    }
    const started = watch?.watch(containerId);
    try {
      await this.networks.attach(containerId, endpoints.slice(1));
      // The engine hands a new container the lowest free address of a network: while a reset's old container has
      // left its networks and the new one has not yet taken their addresses back, a create here would take them.
      // Resets hold the namespace's addresses alone for that moment; creates share them.
      const pinned = Object.keys(addresses).length > 0;
      const id = containerId;
      const hold = <T>(fn: () => Promise<T>) => (pinned ? this.locks.run('addresses', fn) : this.locks.runShared('addresses', fn));
      await hold(async () => {
        await beforeStart?.(id);
        await this.startOnNetworks(id, pinned ? endpoints : []);
      });
      const died = started ? await started.died(START_WATCH_MS) : false;
      return await this.assertUp(containerId, died);
    } catch (error) {
      await this.engine.removeContainer(containerId).catch((cleanupError: unknown) =>
        this.logger.warn({ nodeId, containerId, err: String(cleanupError) }, 'could not remove a container that failed to start'),
      );
      // Say which node failed, keeping the error's own subclass so that `instanceof WrongStateError` still works.
      if (error instanceof NodeError) error.message = `node "${nodeId}" failed to start: ${error.message}`;
      throw error;
    } finally {
      started?.release();
    }
  }

  /**
   * Starts a container. The engine looks its networks up by name at the start: while two managers race to make
   * a namespace's network, the name may briefly be ambiguous until the loser removes its twin, so that answer is
   * retried for up to a second.
   */
  private async startOnNetworks(containerId: string, pinned: NetworkEndpoint[] = []): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.engine.startContainer(containerId);
      } catch (error) {
        if (error instanceof NodeError && /address already in use/i.test(error.message) && pinned.some((e) => e.ipv4Address) && attempt < 1) {
          // Another manager's container took a kept address in between: the node keeps its networks and names,
          // on an address the engine picks.
          this.logger.warn({ containerId, err: error.message }, 'a kept address was taken: the node gets a new one');
          for (const e of pinned.filter((p) => p.ipv4Address)) {
            await this.engine.disconnectNetwork(containerId, e.network);
            await this.engine.connectNetwork(containerId, { ...e, ipv4Address: undefined });
          }
          continue;
        }
        if (!(error instanceof NodeError && /is ambiguous/.test(error.message)) || attempt >= 20) throw error;
        await sleep(50);
      }
    }
  }

  /**
   * A main process that cannot be run (not found, not executable) still gives a started container: the init
   * process starts, fails to exec it and exits. The inspect after the start (and, for a command of the spec's
   * own, the die watch before it) makes such a node fail to start instead of being handed out dead.
   * @returns the container as inspected: the node's record.
   */
  private async assertUp(containerId: string, died: boolean): Promise<ContainerSummary> {
    let c = await this.engine.inspectContainer(containerId);
    // After a die event the engine may report the state a moment later: read until it does.
    for (let i = 0; died && c?.state === 'running' && i < 20; i++) {
      await sleep(10);
      c = await this.engine.inspectContainer(containerId);
    }
    if (!c || (c.state !== 'running' && c.state !== 'created')) {
      const code = c?.exitCode;
      const hint = code === 127 ? ': command not found' : code === 126 ? ': command not executable' : '';
      throw new WrongStateError(`its main process exited at once (state: ${c?.state ?? 'removed'}, exit code ${code ?? 'unknown'}${hint})`);
    }
    return c;
  }
}
