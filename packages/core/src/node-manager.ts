import type { Readable } from 'node:stream';
import type { FileService } from './files/file-service.js';
import type { FaultService } from './network/fault-service.js';
import type { LinkInput, Link, Partition } from './schemas/faults.js';
import type { FileInfo, FileListing, WriteFileOptions } from './schemas/files.js';
import { LimitExceededError, WrongStateError } from './errors.js';
import type { HealthService } from './health/health-service.js';
import type { WarmPool } from './pool/warm-pool.js';
import type { NodeService } from './node/node-service.js';
import type { ProcessService } from './process/process-service.js';
import type { ResolvedConfig } from './composition-root.js';
import type { Health } from './schemas/health.js';
import type { NodeInfo, NodeSpecInput } from './schemas/node.js';
import type { PruneResult } from './node/prune.js';
import type {
  ExecAnswer,
  FollowEvent,
  FollowOptions,
  KillOptions,
  LogsQuery,
  OutputChunk,
  OutputQuery,
  OutputStream,
  ProcessLogs,
  ProcessConfigInput,
  ProcessRecord,
  WaitOptions,
} from './schemas/process.js';

/** A node as `createNode` returns it: its record, and removed at the end of an `await using` scope. */
export type NodeHandle = NodeInfo & AsyncDisposable;

/**
 * The public face of @nodes/core: nodes (one Docker container each) and the processes run in them.
 * Make one with `createNodeManager()`. Every method validates its input with the zod schemas named in its
 * docs and throws only `NodeError` subclasses. Nothing is kept in memory that the engine does not also hold,
 * so any number of managers (or restarts) see the same nodes of a namespace.
 */
export class NodeManager {
  constructor(
    private readonly config: ResolvedConfig,
    private readonly nodes: NodeService,
    private readonly processes: ProcessService,
    private readonly health: HealthService,
    private readonly files: FileService,
    private readonly faults: FaultService,
    private readonly pool: WarmPool,
  ) {
    // With `poolSize` > 0 the warm pool sweeps what an earlier run left and fills itself, in the background.
    pool.start();
  }

  /** How many warm containers this manager holds ready to be claimed (see `WarmPool`). */
  get warmSize(): number {
    return this.pool.size;
  }

  /**
   * Fills the warm pool up to `poolSize` per wanted spec and waits for it (a create then claims one instead of
   * making one). Nothing to do when the pool is off.
   * @throws {EngineUnavailableError} when the engine does not answer.
   */
  async warmUp(): Promise<void> {
    if (this.pool.enabled) await this.pool.fillNow();
  }

  /**
   * Stops the warm pool's background refills and waits for one under way. Nodes and warm containers stay on
   * the engine (a later manager of the namespace adopts the warm ones); the manager may still be used, cold.
   */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** The namespace this manager sees (label `io.nodes.namespace`). */
  get namespace(): string {
    return this.config.namespace;
  }

  /** The engine endpoint, `unix:///…` or `tcp://…`. */
  get endpoint(): string {
    return this.config.endpoint;
  }

  /**
   * The node id of a node named by id or name (schema `NodeRefSchema`); every method that takes a node id takes
   * a name too. @throws {NodeNotFoundError} when no node of the namespace has that name.
   */
  resolveNodeId(ref: string): Promise<string> {
    return this.nodes.resolveId(ref);
  }

  /**
   * Creates and starts a node; see `NodeService.create`. Spec's `create_node`.
   * @param spec schema `NodeSpecSchema` (its input type: every field optional; unknown fields fail to compile).
   * @returns the node, which is also a handle: `await using node = await manager.createNode()` removes it when
   *   the scope ends (`Symbol.asyncDispose`; a node already gone is fine).
   */
  async createNode(spec?: NodeSpecInput): Promise<NodeHandle> {
    const node = await this.nodes.create(spec);
    return Object.defineProperty(node, Symbol.asyncDispose, {
      value: () => this.removeNode(node.nodeId).catch((error: unknown) => {
        if ((error as { code?: string }).code !== 'node_not_found') throw error;
      }),
      enumerable: false,
    }) as NodeHandle;
  }

  /** Kills and removes a node's container; see `NodeService.remove`. Spec's `remove_node`. */
  removeNode(nodeId: string): Promise<void> {
    return this.nodes.remove(nodeId);
  }

  /** Recreates a node's container from its spec under the same node id; see `NodeService.reset`. Spec's `reset_node`. */
  resetNode(nodeId: string): Promise<NodeInfo> {
    return this.nodes.reset(nodeId);
  }

  /**
   * One node as the engine records it (see `NodeService.get`), with the counts of its processes by status when
   * it is running (they are read from inside the node).
   */
  async getNode(nodeId: string): Promise<NodeInfo> {
    const { node, marked } = await this.nodes.getMarked(nodeId);
    const faults = node.state === 'running' || node.state === 'paused' ? await this.faults.faultsOf(node.containerId, marked) : undefined;
    const withFaults = faults ? { ...node, faults } : node;
    if (node.state !== 'running') return withFaults;
    try {
      return { ...withFaults, processes: await this.processes.countByStatus(node.nodeId) };
    } catch (error) {
      // A node at its memory limit cannot run the read: it is still the node, without its counts.
      if (error instanceof LimitExceededError) return withFaults;
      // Its main process ended between the two reads (an OOM kill, a crash): answer the node as it is now.
      if (error instanceof WrongStateError) return this.nodes.get(nodeId);
      throw error;
    }
  }

  /** Every node of the namespace; see `NodeService.list`. */
  listNodes(): Promise<NodeInfo[]> {
    return this.nodes.list();
  }

  /**
   * Removes the namespace's containers that are not live nodes (crashed resets' leftovers, containers never
   * started, unreadable labels) and, when `idleTtlMs` is set, idle nodes; see `NodeService.prune`.
   * @returns schema `PruneResultSchema`. @throws {EngineUnavailableError} when the engine does not answer.
   */
  pruneNodes(): Promise<PruneResult> {
    return this.nodes.prune();
  }

  /** Engine and node health; see `HealthService.check`. Spec's `get_health`. */
  getHealth(): Promise<Health> {
    return this.health.check();
  }

  /** Starts a process in a node and returns its record; see `ProcessService.start`. Spec's `run_process_on_node`. */
  runProcess(nodeId: string, config: ProcessConfigInput): Promise<ProcessRecord> {
    return this.processes.start(nodeId, config);
  }

  /** One process's record; see `ProcessService.get`. */
  getProcess(nodeId: string, processId: string): Promise<ProcessRecord> {
    return this.processes.get(nodeId, processId);
  }

  /** Every process of a node; see `ProcessService.list`. */
  listProcesses(nodeId: string): Promise<ProcessRecord[]> {
    return this.processes.list(nodeId);
  }

  /** A process's record and a slice of both its streams, in one read; see `ProcessService.logs`. */
  getProcessLogs(nodeId: string, processId: string, query?: LogsQuery): Promise<ProcessLogs> {
    return this.processes.logs(nodeId, processId, query);
  }

  /** A slice of a process's stdout or stderr from a byte offset; see `ProcessService.output`. */
  getProcessOutput(nodeId: string, processId: string, stream: OutputStream, query?: OutputQuery): Promise<OutputChunk> {
    return this.processes.output(nodeId, processId, stream, query);
  }

  /** Kills a process and its group, confirming they are gone; see `ProcessService.kill`. */
  killProcess(nodeId: string, processId: string, options?: KillOptions): Promise<ProcessRecord> {
    return this.processes.kill(nodeId, processId, options);
  }

  /** Waits for a process to end; see `ProcessService.wait`. */
  waitProcess(nodeId: string, processId: string, options?: WaitOptions): Promise<ProcessRecord> {
    return this.processes.wait(nodeId, processId, options);
  }

  /**
   * Writes a file into a running node, exactly these bytes, with `mode` and missing parents made; see
   * `FileService.writeFileStream`. Spec extension `write_file`.
   */
  writeFile(nodeId: string, path: string, data: Uint8Array, options?: WriteFileOptions): Promise<FileInfo> {
    return this.files.writeFile(nodeId, path, data, options);
  }

  /** Writes `sizeBytes` bytes from a Node stream into a file of a running node, never holding it whole; see `FileService.writeFileStream`. */
  writeFileStream(nodeId: string, path: string, source: Readable, sizeBytes: number, options?: WriteFileOptions): Promise<FileInfo> {
    return this.files.writeFileStream(nodeId, path, source, sizeBytes, options);
  }

  /** Reads a whole file of a running node (at most `maxBytes`); see `FileService.readFile`. Spec extension `read_file`. */
  readFile(nodeId: string, path: string, maxBytes?: number): Promise<{ info: FileInfo; data: Buffer }> {
    return this.files.readFile(nodeId, path, maxBytes);
  }

  /** A file of a running node as a Node stream of its bytes; see `FileService.readFileStream`. */
  readFileStream(nodeId: string, path: string): Promise<{ info: FileInfo; stream: Readable }> {
    return this.files.readFileStream(nodeId, path);
  }

  /** One directory of a running node; see `FileService.listFiles`. Spec extension `list_files`. */
  listFiles(nodeId: string, path: string): Promise<FileListing> {
    return this.files.listFiles(nodeId, path);
  }

  /**
   * Starts a process and waits for its end, answering its final record and the first page of both streams in
   * one call; see `ProcessService.runAndWait`. The server's `run_process_on_node` with `wait: true`.
   */
  runProcessAndWait(nodeId: string, config: unknown, options?: { timeoutMs?: number }): Promise<ProcessLogs> {
    return this.processes.runAndWait(nodeId, config, options);
  }

  /**
   * Runs a command to its end and collects its exit code and both streams, in one call (schema
   * `ExecAnswerSchema`); see `ProcessService.exec`.
   */
  exec(nodeId: string, config: ProcessConfigInput, options?: { timeoutMs?: number }): Promise<ExecAnswer> {
    return this.processes.exec(nodeId, config, options);
  }

  /**
   * Follows a process's output: an async iterator of chunks as they are written, ending with the final record;
   * see `ProcessService.follow`. `from` gives byte offsets to resume at; aborting `signal` ends it at once.
   */
  followOutput(nodeId: string, processId: string, options?: FollowOptions, signal?: AbortSignal): AsyncGenerator<FollowEvent> {
    return this.processes.follow(nodeId, processId, options, signal);
  }

  /**
   * Throws `LimitExceededError` when this process (by node id) may not get one more follower: past
   * `maxFollowersPerProcess` or `maxFollowers`. For callers that must refuse before they start streaming.
   */
  assertCanFollow(nodeId: string, processId: string): void {
    this.processes.assertCanFollow(nodeId, processId);
  }

  /**
   * Partitions nodes into groups that no longer reach each other (schema `PartitionSchema`); see
   * `FaultService.partition`. Spec extension `partition_nodes`.
   */
  partitionNodes(partition: unknown): Promise<Partition> {
    return this.faults.partition(partition);
  }

  /** Lifts every partition of the namespace; see `FaultService.heal`. Spec extension `heal_nodes`. @returns node ids. */
  healNodes(): Promise<string[]> {
    return this.faults.heal();
  }

  /** Sets a node's link faults (schema `LinkSchema`: delay, jitter, loss, rate); see `FaultService.setLink`. */
  setLink(nodeId: string, link: LinkInput): Promise<Link> {
    return this.faults.setLink(nodeId, link);
  }

  /** Lifts a node's link faults; see `FaultService.clearLink`. */
  clearLink(nodeId: string): Promise<void> {
    return this.faults.clearLink(nodeId);
  }

  /** Freezes a node (`POST /containers/{id}/pause`); its processes' reads answer `wrong_state` until unpaused. */
  pauseNode(nodeId: string): Promise<void> {
    return this.faults.pause(nodeId);
  }

  /** Thaws a paused node (`POST /containers/{id}/unpause`). */
  unpauseNode(nodeId: string): Promise<void> {
    return this.faults.unpause(nodeId);
  }
}
