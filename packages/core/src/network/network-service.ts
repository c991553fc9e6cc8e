import { inject, injectable } from 'tsyringe';
import type { NodesConfig } from '../config.js';
import type { ContainerEngine, ContainerSummary, NetworkEndpoint, NetworkSummary } from '../engine/container-engine.js';
import { EngineError, NodeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { LABELS, MANAGED_BY, namespaceSelector } from '../node/labels.js';
import { NodeLocks } from '../node/node-locks.js';
import { TOKENS } from '../tokens.js';
import { aliasesOf, networkNameOf, segmentsOf } from './network-names.js';
import { NetworkAgent } from './agent.js';
import { freeSubnet } from './subnets.js';

/** Where a node stands on one segment: what `endpointsFor` needs to put it back after a reset. */
export type AddressBook = Record<string, string>;

/**
 * The namespace's networks: one user-defined bridge network per segment (the namespace's own, `default`, and
 * those node specs name), created on first use with a subnet chosen from `networkPool`, labelled, and removed by
 * `pruneUnused` once no container uses them. Nodes join them with DNS aliases (node name and node id), so names
 * resolve inside a namespace and nowhere else; separate bridges keep namespaces apart.
 */
@injectable()
export class NetworkService {
  /** segment -> Docker network id, for networks this manager has seen exist (a cache; the engine is the record). */
  private readonly known = new Map<string, string>();

  constructor(
    @inject(TOKENS.ContainerEngine) private readonly engine: ContainerEngine,
    @inject(TOKENS.Config) private readonly config: NodesConfig,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(NodeLocks) private readonly locks: NodeLocks,
    @inject(NetworkAgent) private readonly agent: NetworkAgent,
  ) {}

  /**
   * Applies the operator's host-access and egress settings to a network's bridge (`br-<id>`), through the agent
   * in the host's network namespace: one exec per network per manager, none when both are allowed.
   */
  private async guard(networkId: string, allowHost: boolean, egress: boolean): Promise<void> {
    await this.agent.run('hostGuard', [`br-${networkId.slice(0, 12)}`, allowHost ? '1' : '0', egress ? '1' : '0'], 'guarding the host from a network');
  }

  /** Labels of a segment's network: the namespace's selector and the segment's name. */
  private labelsOf(segment: string): Record<string, string> {
    return { ...this.config.networkLabels, ...namespaceSelector(this.config.namespace), [LABELS.network]: segment };
  }

  /** Forgets what this manager knows of the namespace's networks, after the engine said one is gone. */
  forget(): void {
    this.known.clear();
  }

  /**
   * The id of a segment's network, creating the network first when the engine has none (`POST /networks/create`,
   * bridge driver, a free subnet of `networkPool`). Safe against other managers doing the same: the engine's
   * duplicate-name check is not atomic, so after a create the networks of that name are listed again and the
   * oldest wins; a manager whose network lost removes it before any container uses it. Everything joins by id.
   * @throws {EngineError} when `networkPool` has no free subnet left.
   */
  async ensure(segment: string): Promise<string> {
    const cached = this.known.get(segment);
    if (cached) return cached;
    return this.locks.run(`network:${segment}`, async () => {
      const name = networkNameOf(this.config.namespace, segment);
      const lost: string[] = [];
      let id: string | undefined;
      for (let attempt = 0; id === undefined; attempt++) {
        id = await this.oldest(name);
        if (id) break;
        const all = await this.engine.listNetworks({});
        const subnet = freeSubnet(this.config.networkPool, this.config.networkPrefixLength, [...all.flatMap((n) => n.subnets), ...lost]);
        if (!subnet) {
          throw new EngineError(`no free /${this.config.networkPrefixLength} subnet left in ${this.config.networkPool} for network "${name}"`);
        }
        try {
          const created = await this.engine.createNetwork({ name, labels: this.labelsOf(segment), subnet, internal: false });
          id = await this.oldest(name);
          if (id !== created) {
            await this.engine.removeNetwork(created).catch(() => undefined);
          } else {
            this.logger.info({ network: name, subnet }, 'network created');
          }
        } catch (error) {
          // Another manager took the name or the subnet in between: look again.
          if (!(error instanceof NodeError) || attempt >= 10) throw error;
          lost.push(subnet);
        }
      }
      if (!(this.config.allowHostAccess && this.config.egress)) await this.guard(id, this.config.allowHostAccess, this.config.egress);
      this.known.set(segment, id);
      return id;
    });
  }

  /** The id of the oldest network of the namespace with this name (ties broken by id), if any. */
  private async oldest(name: string): Promise<string | undefined> {
    const same = (await this.engine.listNetworks(namespaceSelector(this.config.namespace))).filter((n) => n.name === name);
    same.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    // A younger twin left by a manager that crashed before removing it makes the name ambiguous: drop it if unused.
    for (const twin of same.slice(1)) {
      if ((await this.engine.networkContainers(twin.id))?.length === 0) await this.engine.removeNetwork(twin.id).catch(() => undefined);
    }
    return same[0]?.id;
  }

  /**
   * The endpoints of a node on each of its segments (the namespace's network first), ensuring the networks:
   * aliases are its name and node id; `addresses` (segment -> IPv4) pins the addresses it had before a reset.
   */
  async endpointsFor(nodeId: string, name: string | undefined, networks: string[] | undefined, addresses: AddressBook = {}): Promise<NetworkEndpoint[]> {
    const aliases = aliasesOf(nodeId, name);
    const endpoints: NetworkEndpoint[] = [];
    for (const segment of segmentsOf(networks)) {
      endpoints.push({ network: await this.ensure(segment), aliases, ipv4Address: addresses[segment] || undefined });
    }
    return endpoints;
  }

  /**
   * Joins a created or running container to a node's networks with its aliases, in one connect call per network
   * (`POST /networks/{id}/connect`): what a create does for the networks after the first, and what a container
   * made ahead of time (a warm pool) does when it becomes a node.
   */
  async attach(containerId: string, endpoints: NetworkEndpoint[]): Promise<void> {
    for (const endpoint of endpoints) await this.engine.connectNetwork(containerId, endpoint);
  }

  /** Takes a container off the namespace's networks (`POST /networks/{id}/disconnect`), freeing its addresses. */
  async detach(container: ContainerSummary): Promise<void> {
    const prefix = `nodes-${container.labels[LABELS.namespace] ?? this.config.namespace}-`;
    for (const n of container.networks ?? []) {
      if (n.network.startsWith(prefix)) await this.engine.disconnectNetwork(container.id, n.networkId || n.network);
    }
  }

  /** A node's addresses by segment, from its container's inspect, to keep them over a reset. */
  addressesOf(container: ContainerSummary, networks: string[] | undefined): AddressBook {
    const book: AddressBook = {};
    for (const segment of segmentsOf(networks)) {
      const n = container.networks?.find((x) => x.network === networkNameOf(this.config.namespace, segment));
      const address = n?.ipv4Address || n?.configuredIpv4Address;
      if (address) book[segment] = address;
    }
    return book;
  }

  /**
   * Removes the namespace's networks that no container uses (`DELETE /networks/{id}`).
   * @returns the names of the networks removed.
   */
  async pruneUnused(): Promise<string[]> {
    const removed: string[] = [];
    const networks: NetworkSummary[] = await this.engine.listNetworks({ ...namespaceSelector(this.config.namespace) });
    for (const n of networks) {
      if (n.labels[LABELS.managedBy] !== MANAGED_BY) continue;
      await this.locks.run(`network:${n.labels[LABELS.network] ?? n.name}`, async () => {
        const users = await this.engine.networkContainers(n.id);
        if (users === undefined || users.length > 0) return;
        try {
          // Its guard rules go with it (nothing to do when the operator allowed both).
          if (!(this.config.allowHostAccess && this.config.egress) && (await this.agent.find())) await this.guard(n.id, true, true);
          if (await this.engine.removeNetwork(n.id)) removed.push(n.name);
          this.known.delete(n.labels[LABELS.network] ?? '');
          this.logger.info({ network: n.name }, 'removed unused network');
        } catch (error) {
          // A container joined it in between: it is in use again.
          if (!(error instanceof NodeError)) throw error;
          this.logger.warn({ network: n.name, err: error.message }, 'could not remove network');
        }
      });
    }
    return removed;
  }
}
