import { inject, injectable } from 'tsyringe';
import type { ContainerEngine, ContainerSummary } from '../engine/container-engine.js';
import { NodeNotFoundError, WrongStateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { NodeService } from '../node/node-service.js';
import { LinkSchema, PartitionSchema, type Link, type LinkInput, type NodeFaults, type Partition } from '../schemas/faults.js';
import type { NodeInfo } from '../schemas/node.js';
import { parseInput } from '../schemas/parse.js';
import { TOKENS } from '../tokens.js';
import type { NodesConfig } from '../config.js';
import { NetworkAgent } from './agent.js';
import { byPid } from './agent-output.js';
import { markFaulted } from './fault-marks.js';

/** A running node as faults need it: its id, its main process's pid on the host, its addresses, image and labels. */
interface Placed {
  nodeId: string;
  pid: number;
  ips: string[];
  image: string;
  labels: Record<string, string>;
}

const ipsOf = (c: ContainerSummary): string[] => (c.networks ?? []).map((n) => n.ipv4Address).filter((ip) => ip !== '');

/**
 * Faults between nodes: partitions (iptables in each node's network namespace), link faults (loss, delay,
 * jitter, rate) and pause. Everything lives in the nodes themselves (their network namespaces, the engine's
 * freezer), so it survives a manager restart; a reset carries it to the new container. Done by the namespace's
 * `NetworkAgent`, one exec per operation; node images need no tools.
 */
@injectable()
export class FaultService {
  constructor(
    @inject(TOKENS.ContainerEngine) private readonly engine: ContainerEngine,
    @inject(TOKENS.Config) private readonly config: NodesConfig,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(NodeService) private readonly nodes: NodeService,
    @inject(NetworkAgent) private readonly agent: NetworkAgent,
  ) {}

  /** A running node's pid and addresses (inspect). @throws {WrongStateError} when it does not run. */
  private async place(nodeId: string): Promise<Placed> {
    const listed = await this.nodes.containerOf(nodeId);
    const c = await this.engine.inspectContainer(listed.id);
    if (!c) throw new NodeNotFoundError(nodeId);
    // A paused node's network namespace takes rules as well: partitioning a paused node is fine.
    if ((c.state !== 'running' && c.state !== 'paused') || !c.pid) {
      throw new WrongStateError(`node "${nodeId}" is not running (state: ${c.state}); network faults need a running node`);
    }
    return { nodeId, pid: c.pid, ips: ipsOf(c), image: c.image, labels: c.labels };
  }

  /**
   * Runs `fn` holding the shared locks of these nodes (in id order, so that two callers never wait on each
   * other): a reset of one of them (which reads and carries its faults, and holds its lock alone) comes wholly
   * before or after, so that a fault is never set on a container the reset is leaving.
   */
  private withNodes<T>(nodeIds: string[], fn: () => Promise<T>): Promise<T> {
    const [first, ...rest] = [...new Set(nodeIds)].sort();
    if (first === undefined) return fn();
    return this.nodes.withSharedNodeLock(first, () => this.withNodes(rest, fn));
  }

  /** Marks nodes as ones that may hold faults (`fault-marks.ts`), before any of their faults is set. */
  private async mark(placed: Placed[]): Promise<void> {
    await Promise.all(placed.map((p) => markFaulted(this.engine, this.config.namespace, p.nodeId, p.image, p.labels)));
  }

  /** The addresses each of these nodes blocks now, by pid. */
  private async blocked(placed: Placed[]): Promise<Map<number, string[]>> {
    if (placed.length === 0) return new Map();
    const shown = await this.agent.run('partition', ['show', ...placed.map((p) => String(p.pid))], 'reading partitions');
    return byPid(shown.stdout);
  }

  /**
   * Partitions nodes (schema `PartitionSchema`): nodes of different groups no longer reach each other on any
   * network, nodes of one group do; nodes not named keep their blocks. Idempotent. Each node drops packets to
   * and from the others' addresses in its own network namespace (chain `NODES-PARTITION`, one agent exec).
   * @returns the groups as node ids.
   * @throws {ValidationError} on bad groups. @throws {NodeNotFoundError} @throws {WrongStateError} when a node
   *   does not run (a paused node is fine).
   */
  async partition(input: unknown): Promise<Partition> {
    const { groups } = parseInput(PartitionSchema, input, 'partition');
    const ids = await Promise.all(groups.map((g) => Promise.all(g.map((ref) => this.nodes.resolveId(ref)))));
    return this.withNodes(ids.flat(), () => this.partitionPlaced(ids));
  }

  private async partitionPlaced(ids: string[][]): Promise<Partition> {
    const placedGroups = await Promise.all(ids.map((g) => Promise.all(g.map((id) => this.place(id)))));
    const all = placedGroups.flat();
    const [current] = await Promise.all([this.blocked(all), this.mark(all)]);
    const sets: string[] = [];
    placedGroups.forEach((group, g) => {
      const same = new Set(group.flatMap((p) => p.ips));
      const others = placedGroups.filter((_, o) => o !== g).flat().flatMap((p) => p.ips);
      for (const node of group) {
        const keep = (current.get(node.pid) ?? []).filter((ip) => !same.has(ip));
        sets.push(`${node.pid}=${[...new Set([...keep, ...others])].join(',')}`);
      }
    });
    await this.agent.run('partition', ['set', ...sets], 'partitioning nodes');
    this.logger.info({ groups: ids }, 'nodes partitioned');
    return { groups: ids };
  }

  /** Lifts every partition of the namespace's running nodes (one agent exec). @returns the node ids healed. */
  async heal(): Promise<string[]> {
    const running = (await this.nodes.list()).filter((n) => n.state === 'running' || n.state === 'paused');
    return this.withNodes(running.map((n) => n.nodeId), () => this.healPlaced(running));
  }

  private async healPlaced(running: NodeInfo[]): Promise<string[]> {
    const placed = (await Promise.all(running.map((n) => this.place(n.nodeId).catch(() => undefined)))).filter((p): p is Placed => !!p);
    if (placed.length > 0) await this.agent.run('partition', ['set', ...placed.map((p) => `${p.pid}=`)], 'healing partitions');
    this.logger.info({ nodes: placed.length }, 'partitions healed');
    return placed.map((p) => p.nodeId);
  }

  /**
   * Sets a node's link faults (schema `LinkSchema`), replacing earlier ones: loss with iptables' statistic
   * match, delay and jitter with a user-space NFQUEUE delayer in the agent, rate with a tbf qdisc, all on the
   * node's outgoing traffic (lo excepted). Works on kernels without `sch_netem`.
   */
  async setLink(nodeRef: string, input: LinkInput): Promise<Link> {
    const link = parseInput(LinkSchema, input, 'link');
    const nodeId = await this.nodes.resolveId(nodeRef);
    await this.withNodes([nodeId], async () => {
      const placed = await this.place(nodeId);
      await this.mark([placed]);
      const values = [link.delayMs, link.jitterMs, link.lossPercent, link.rateKbit].map(String);
      await this.agent.run('link', ['set', String(placed.pid), ...values], `setting the link of node "${nodeId}"`);
    });
    this.logger.info({ nodeId, ...link }, 'link faults set');
    return link;
  }

  /** Lifts a node's link faults. Idempotent. */
  async clearLink(nodeRef: string): Promise<void> {
    const nodeId = await this.nodes.resolveId(nodeRef);
    await this.withNodes([nodeId], async () => {
      const { pid } = await this.place(nodeId);
      await this.agent.run('link', ['clear', String(pid)], `clearing the link of node "${nodeId}"`);
    });
  }

  /**
   * A node's faults, read from its network namespace, when the namespace has an agent (without one, no fault
   * was ever set). Partitions are named by the node ids whose addresses it blocks. A node without a fault mark
   * (`marked` false: no fault was ever set on it, see `fault-marks.ts`) has none, and nothing is read.
   */
  async faultsOf(containerId: string, marked: boolean): Promise<NodeFaults | undefined> {
    if (!(await this.agent.find())) return undefined;
    if (!marked) return { partitionedFrom: [] };
    const c = await this.engine.inspectContainer(containerId);
    if (!c?.pid) return undefined;
    const pid = String(c.pid);
    const [partition, link] = await Promise.all([
      this.agent.run('partition', ['show', pid], 'reading partitions'),
      this.agent.run('link', ['show', pid], 'reading link faults'),
    ]);
    const ips = new Set(byPid(partition.stdout).get(c.pid) ?? []);
    const peers = ips.size === 0 ? [] : await this.nodes.list();
    const partitionedFrom = peers.filter((n) => n.networks.some((net) => ips.has(net.ipAddress))).map((n) => n.nodeId);
    const [values] = byPid(link.stdout).get(c.pid) ?? [];
    const [delayMs = 0, jitterMs = 0, lossPercent = 0, rateKbit = 0] = (values ?? '').split(' ').map(Number);
    return { partitionedFrom, ...(values ? { link: { delayMs, jitterMs, lossPercent, rateKbit } } : {}) };
  }

  /** Freezes a node's processes (`POST /containers/{id}/pause`): it keeps its sockets and answers nothing. */
  async pause(nodeRef: string): Promise<void> {
    const nodeId = await this.nodes.resolveId(nodeRef);
    await this.nodes.withNodeLock(nodeId, async () => {
      const c = await this.nodes.containerOf(nodeId);
      if (c.state === 'paused') return;
      if (c.state !== 'running') throw new WrongStateError(`node "${nodeId}" is not running (state: ${c.state}); only a running node can be paused`);
      await this.engine.pauseContainer(c.id);
      this.logger.info({ nodeId, containerId: c.id }, 'node paused');
    });
  }

  /** Thaws a paused node (`POST /containers/{id}/unpause`); a running node is left as it is. */
  async unpause(nodeRef: string): Promise<void> {
    const nodeId = await this.nodes.resolveId(nodeRef);
    await this.nodes.withNodeLock(nodeId, async () => {
      const c = await this.nodes.containerOf(nodeId);
      if (c.state === 'running') return;
      if (c.state !== 'paused') throw new WrongStateError(`node "${nodeId}" is not paused (state: ${c.state})`);
      await this.engine.unpauseContainer(c.id);
      this.logger.info({ nodeId, containerId: c.id }, 'node unpaused');
    });
  }
}
