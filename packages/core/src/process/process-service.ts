import { randomBytes } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { NodesConfig } from '../config.js';
import type { ContainerEngine, SpawnResult } from '../engine/container-engine.js';
import { ConflictError, EngineError, EngineUnavailableError, ProcessNotFoundError, TimeoutError, WrongStateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { NodeService } from '../node/node-service.js';
import { ProcessIdSchema, type NodeId } from '../schemas/common.js';
import { parseInput } from '../schemas/parse.js';
import {
  FollowOptionsSchema,
  KillOptionsSchema,
  LogsQuerySchema,
  OutputQuerySchema,
  OutputStreamSchema,
  ProcessConfigSchema,
  WaitOptionsSchema,
  type ExecAnswer,
  type FollowEvent,
  type FollowOptions,
  type KillOptions,
  type LogsQuery,
  type OutputChunk,
  type OutputQuery,
  type ProcessLogs,
  type ProcessRecord,
  type WaitOptions,
} from '../schemas/process.js';
import { TOKENS } from '../tokens.js';
import { ExecTracker } from './exec-tracker.js';
import { FollowHub } from './follow-hub.js';
import { followProcess } from './process-follow.js';
import { launchError, launchExec, shared, startedOf } from './launch.js';
import { toRecord } from './process-records.js';
import { collectOutput, SafetyTicks, waitForEnd, type WaitContext } from './waiting.js';
import { RecordBatcher } from './record-batch.js';
import { MAX_RECORDS_READ_BYTES } from './node-scripts.js';
import { UTF8_LOOKAHEAD_BYTES, splitLogsOutput, toLogs } from './output-slices.js';
import { parseRecordDump } from './record-dump.js';
import type { ExecTruth } from './process-records.js';
import { readDump, toRecords, type ReaderDeps } from './record-reader.js';
import { killRun, logsReader } from './in-node-calls.js';

/** The first page of each stream that `runAndWait` answers with (bytes), as `get_process_logs` gives by default. */
const DEFAULT_PAGE_BYTES = 1024 * 1024;

/** Processes run in nodes with `exec`: start, read, follow, kill, wait. Records live inside the node. */
@injectable()
export class ProcessService {
  private readonly execIds = new Map<string, string>();
  private readonly checked = new Map<string, ExecTruth | null>();
  /** the record reads of waits, merged per node */
  private readonly batcher = new RecordBatcher((nodeId, processIds) => this.read(nodeId, processIds));
  private readonly ticks = new SafetyTicks();
  private readonly readingLogs = new Map<string, Promise<ProcessLogs>>();
  readonly tracker: ExecTracker;
  private readonly hub: FollowHub;

  constructor(
    @inject(TOKENS.ContainerEngine) private readonly engine: ContainerEngine,
    @inject(TOKENS.Config) private readonly config: NodesConfig,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(NodeService) private readonly nodes: NodeService,
  ) {
    this.tracker = new ExecTracker(engine, logger);
    this.hub = new FollowHub({ perProcess: config.maxFollowersPerProcess, total: config.maxFollowers }, logger);
  }

  private get deps(): ReaderDeps {
    return { engine: this.engine, tracker: this.tracker, stateDir: this.config.stateDir, capBytes: this.config.outputCapBytes, execIds: this.execIds, checked: this.checked };
  }

  /**
   * The node's container, when it is running: processes are started, read and killed with `exec`, which needs
   * a running container (a stopped node's records come back with its next reset).
   * @throws {NodeNotFoundError} @throws {WrongStateError} when the node is not running.
   */
  async runningContainer(nodeId: NodeId): Promise<{ id: string; image: string }> {
    const container = await this.nodes.containerOf(nodeId);
    if (container.state !== 'running') {
      const exit = container.exitCode === undefined ? '' : `, exit code ${container.exitCode}`;
      const remedy = container.state === 'paused' ? 'unpause it (unpause_node)' : 'reset it';
      throw new WrongStateError(`node "${nodeId}" is not running (state: ${container.state}${exit}); ${remedy} to use its processes again`);
    }
    return { id: container.id, image: container.image };
  }

  /**
   * Runs `fn` on the node's running container holding the node's lock shared: beside other reads and starts,
   * never during a reset or remove in this manager. A reset or remove by another manager can still move the
   * container away: a call that meets the old container being removed (`ConflictError`) is tried once more.
   */
  inNode<T>(nodeId: NodeId, fn: (containerId: string) => Promise<T>): Promise<T> {
    return this.nodes.withSharedNodeLock(nodeId, async () => {
      try {
        return await fn((await this.runningContainer(nodeId)).id);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        return fn((await this.runningContainer(nodeId)).id);
      }
    });
  }

  /**
   * Starts a process in a running node (schema `ProcessConfigSchema`: the spec's `run_process_on_node` config)
   * and returns once it runs, with its record. Mirrors `POST /containers/{id}/exec` + `/exec/{id}/start`: the
   * exec's main process is the process's supervisor (sent with the exec, never cached in the node), so the
   * engine holds its exit code; the command runs in its own session, outliving this call and the manager. The
   * command and the record's data go through the exec's stdin, never through a shell's quoting.
   * @throws {ValidationError} on an invalid config or a working directory that does not exist in the node.
   * @throws {ImageUnavailableError} when the node's image lacks what processes need (`/bin/sh`, `setsid`…).
   * @throws {NodeNotFoundError} when the node does not exist. @throws {WrongStateError} when it is not running.
   */
  async start(nodeIdInput: unknown, configInput: unknown): Promise<ProcessRecord> {
    const nodeId = await this.nodes.resolveId(nodeIdInput);
    const config = parseInput(ProcessConfigSchema, configInput, 'process config');
    const processId = `p-${randomBytes(6).toString('hex')}`;
    const { options, meta } = launchExec(config, { stateDir: this.config.stateDir, processId, capBytes: this.config.outputCapBytes, pageBytes: 0 });
    const { result, image } = await this.nodes.withSharedNodeLock(nodeId, async () => {
      const container = await this.runningContainer(nodeId);
      return { result: await this.engine.spawnExec(container.id, options), image: container.image };
    });
    if (!result.acknowledged) throw launchError(result, nodeId, config.name, image);
    this.remember(processId, result.execId);
    this.logger.info({ nodeId, processId, name: config.name }, 'process started');
    const [, pid, startedAtMs] = /@started (\d+) (\d+)/.exec(result.stdout.toString('latin1')) ?? [];
    return {
      processId,
      nodeId,
      ...meta,
      status: 'running',
      pid: Number(pid),
      startedAt: new Date(Number(startedAtMs)).toISOString(),
      startedAtMs: Number(startedAtMs),
      stdoutBytes: 0,
      stderrBytes: 0,
      truncated: { stdout: false, stderr: false },
    };
  }

  /** Records of the given processes of a node, all when `processIds` is empty: one exec, plus one more in a race. */
  private read(nodeId: NodeId, processIds: string[]): Promise<ProcessRecord[]> {
    return this.inNode(nodeId, async (containerId) => {
      const raws = await readDump(this.deps, containerId, processIds);
      return toRecords(this.deps, nodeId, containerId, raws, (ids) => readDump(this.deps, containerId, ids));
    });
  }

  /**
   * The record of one process (schema `ProcessRecordSchema`).
   * @throws {ProcessNotFoundError} when the node has no such process. @throws {NodeNotFoundError}
   */
  async get(nodeIdInput: unknown, processIdInput: unknown): Promise<ProcessRecord> {
    const nodeId = await this.nodes.resolveId(nodeIdInput);
    const processId = parseInput(ProcessIdSchema, processIdInput, 'process id');
    const [record] = await this.read(nodeId, [processId]);
    if (record) return record;
    // A node removed or stopped during the read leaves no record either: say so rather than "no such process".
    await this.runningContainer(nodeId);
    throw new ProcessNotFoundError(nodeId, processId);
  }

  /** `logs`, sharing a read already in flight for the same process, offsets and encoding (followers at one place). */
  private sharedLogs(nodeId: NodeId, processId: string, query: LogsQuery): Promise<ProcessLogs> {
    const key = `${nodeId}/${processId}/${query.stdoutOffset}/${query.stderrOffset}/${query.limitBytes}/${query.encoding}`;
    return shared(this.readingLogs, key, () => this.logs(nodeId, processId, query));
  }

  /** `get`, merged with the other waits' reads of the node (see `RecordBatcher`): many waits of a node cost one read. */
  private async sharedGet(nodeId: NodeId, processId: string): Promise<ProcessRecord> {
    const record = await this.batcher.get(nodeId, processId);
    if (record) return record;
    await this.runningContainer(nodeId);
    throw new ProcessNotFoundError(nodeId, processId);
  }

  /** Every process started in the node since it was created, oldest first (including those lost in resets), in one exec. */
  async list(nodeIdInput: unknown): Promise<ProcessRecord[]> {
    const nodeId = await this.nodes.resolveId(nodeIdInput);
    const records = await this.read(nodeId, []);
    return records.sort((a, b) => a.startedAtMs - b.startedAtMs || a.processId.localeCompare(b.processId));
  }

  /** How many of the node's processes are in each status, for example `{ running: 2, exited: 5 }`. */
  async countByStatus(nodeIdInput: unknown): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const p of await this.list(nodeIdInput)) counts[p.status] = (counts[p.status] ?? 0) + 1;
    return counts;
  }

  /**
   * Reads a process's record and a page of each of its streams in one exec (schema `LogsQuerySchema`): from
   * `stdoutOffset` and `stderrOffset`, at most `limitBytes` of each. At most `outputCapBytes` of each stream
   * are kept; `truncated` says when more was written.
   * @returns schema `ProcessLogsSchema`. @throws {ProcessNotFoundError} @throws {NodeNotFoundError}
   * @throws {WrongStateError} when the node is not running.
   */
  async logs(nodeIdInput: unknown, processIdInput: unknown, queryInput: LogsQuery = {}): Promise<ProcessLogs> {
    const nodeId = await this.nodes.resolveId(nodeIdInput);
    const processId = parseInput(ProcessIdSchema, processIdInput, 'process id');
    const query = parseInput(LogsQuerySchema, queryInput, 'logs query');
    const logs = await this.inNode(nodeId, logsReader(this.deps, nodeId, processId, query));
    if (logs) return logs;
    // A node removed or stopped during the read cuts the output short: say so rather than "unreadable".
    await this.runningContainer(nodeId);
    throw new EngineError(`output of process "${processId}" on node "${nodeId}" could not be read`);
  }

  /**
   * Reads one output stream of a process from a byte offset (schema `OutputQuerySchema`); see `logs`.
   * @returns schema `OutputChunkSchema`. @throws {ProcessNotFoundError} @throws {NodeNotFoundError}
   */
  async output(nodeIdInput: unknown, processIdInput: unknown, streamInput: unknown, queryInput: OutputQuery = {}): Promise<OutputChunk> {
    const stream = parseInput(OutputStreamSchema, streamInput, 'output stream');
    const query = parseInput(OutputQuerySchema, queryInput, 'output query');
    const other = stream === 'stdout' ? 'stderrOffset' : 'stdoutOffset';
    // The other stream is read from past the cap, so that none of it is sent.
    const logs = await this.logs(nodeIdInput, processIdInput, {
      [`${stream}Offset`]: query.offset,
      [other]: this.config.outputCapBytes,
      limitBytes: query.limitBytes,
      encoding: query.encoding,
    });
    return logs[stream];
  }

  /**
   * Kills a process's whole run inside the node: sends `signal` (default SIGTERM) to every process that carries
   * its run mark (the command and all its descendants, also daemons that left its session), then SIGKILL after
   * `graceMs` (default 5000 ms), and returns the final record once none is left. The Engine API has no call to
   * kill an exec, so this runs `kill` in the node. Killing an ended process ends what is left of its run and
   * keeps its record as it was.
   * @throws {ProcessNotFoundError} @throws {NodeNotFoundError} @throws {WrongStateError} when the node is not running.
   */
  async kill(nodeIdInput: unknown, processIdInput: unknown, optionsInput: KillOptions = {}): Promise<ProcessRecord> {
    const nodeId = await this.nodes.resolveId(nodeIdInput);
    const processId = parseInput(ProcessIdSchema, processIdInput, 'process id');
    const options = parseInput(KillOptionsSchema, optionsInput, 'kill options');
    const record = await this.inNode(nodeId, (containerId) => killRun(this.deps, containerId, nodeId, processId, options));
    this.logger.info({ nodeId, processId, signal: options.signal }, 'process killed');
    return record ?? this.get(nodeId, processId);
  }

  /**
   * Follows a process's output as it is written (schema `FollowOptionsSchema`): an async iterator of chunks
   * (`{type: 'output', stream, data, offset, nextOffset}`, offsets in bytes) that ends with `{type: 'end',
   * process}`, the final record. All followers of one process share one attached exec that streams its output
   * files from inside the node; none costs an exec while the process is quiet. Stop early with `break`.
   * @throws {LimitExceededError} past `maxFollowersPerProcess` or `maxFollowers`.
   * @throws {ProcessNotFoundError} @throws {NodeNotFoundError} @throws {EngineError} when this follower fell
   * more than `followerQueueBytes` behind.
   */
  /**
   * Checks that one more follower of this process is allowed, before a caller commits to following (the SSE
   * route answers 429 instead of starting a stream). @throws {LimitExceededError}
   */
  assertCanFollow(nodeId: string, processId: string): void {
    this.hub.assertRoom(`${nodeId}/${processId}`);
  }

  async *follow(nodeIdInput: unknown, processIdInput: unknown, optionsInput: FollowOptions = {}, signal?: AbortSignal): AsyncGenerator<FollowEvent> {
    const nodeId = await this.nodes.resolveId(nodeIdInput);
    const processId = parseInput(ProcessIdSchema, processIdInput, 'process id');
    const options = parseInput(FollowOptionsSchema, optionsInput, 'follow options');
    yield* followProcess(
      {
        engine: this.engine,
        hub: this.hub,
        stateDir: this.config.stateDir,
        capBytes: this.config.outputCapBytes,
        maxQueuedBytes: this.config.followerQueueBytes,
        logs: (n, p, q) => this.sharedLogs(n, p, q),
        containerOf: async (n) => (await this.runningContainer(n)).id,
      },
      nodeId,
      processId,
      options.from,
      options.encoding,
      signal,
    );
  }

  /**
   * Starts a process and waits for its end (bounded by `timeoutMs`, default: its own `timeoutMs` and
   * `graceMs` plus 10 s, else 60 s), answering its final record and the first page (1 MiB) of both streams, in
   * one exec: its supervisor stays attached and reports them when the process ends, with the exec's own exit
   * code. The process keeps its record in the node as any other does.
   * @returns schema `ProcessLogsSchema`. @throws {TimeoutError} when it still runs at the deadline (it goes on).
   * @throws like `start`.
   */
  async runAndWait(nodeIdInput: unknown, configInput: unknown, options: { timeoutMs?: number } = {}): Promise<ProcessLogs> {
    const nodeId = await this.nodes.resolveId(nodeIdInput);
    const config = parseInput(ProcessConfigSchema, configInput, 'process config');
    const timeoutMs = options.timeoutMs ?? (config.timeoutMs !== undefined ? config.timeoutMs + config.graceMs + 10_000 : 60_000);
    const processId = `p-${randomBytes(6).toString('hex')}`;
    const cap = this.config.outputCapBytes;
    const limit = Math.min(DEFAULT_PAGE_BYTES, cap);
    const pageBytes = Math.min(limit + UTF8_LOOKAHEAD_BYTES, cap);
    const { options: spawn } = launchExec(config, { stateDir: this.config.stateDir, processId, capBytes: cap, pageBytes });
    // The node's lock is held until the process runs, not while it runs: a reset may end it meanwhile.
    let run: Promise<SpawnResult> | undefined;
    let container: { id: string; image: string } | undefined;
    await this.nodes.withSharedNodeLock(nodeId, async () => {
      container = await this.runningContainer(nodeId);
      const acked = new Promise<void>((resolve) => {
        run = this.engine.spawnExec(container!.id, { ...spawn, detach: false, onAck: resolve, timeoutMs, maxOutputBytes: 2 * pageBytes + MAX_RECORDS_READ_BYTES });
        run.then(() => resolve(), () => resolve());
      });
      await acked;
    });
    const result = await run!.catch((error: unknown) => {
      if (error instanceof EngineUnavailableError && /did not answer within/.test(error.message)) {
        throw new TimeoutError(`process "${processId}" on node "${nodeId}" still runs after ${timeoutMs} ms; it goes on`);
      }
      throw error;
    });
    if (!result.acknowledged) throw launchError(result, nodeId, config.name, container!.image);
    this.remember(processId, result.execId);
    this.logger.info({ nodeId, processId, name: config.name }, 'process started and waited');
    const request = { nodeId, processId, capBytes: cap, encoding: 'utf8' as const, stdout: { offset: 0, limit }, stderr: { offset: 0, limit } };
    const answer = splitLogsOutput(startedOf(result.stdout)?.rest ?? Buffer.alloc(0), request);
    const raw = answer && (await parseRecordDump(answer.dump)).get(processId);
    // No report (the node went away, or a reset ended the process): read what is there, which says why.
    if (!answer || !raw || result.exitCode === undefined) return this.logs(nodeId, processId);
    return toLogs(answer, toRecord(nodeId, processId, raw, cap, { running: false, exitCode: result.exitCode }), request);
  }

  /**
   * Runs a command to its end and collects it, in one call: its record, exit code and both streams whole (as
   * kept, at most `outputCapBytes` each), decoded as UTF-8. See `runAndWait`.
   * @returns schema `ExecAnswerSchema`. @throws like `runAndWait`.
   */
  async exec(nodeIdInput: unknown, configInput: unknown, options: { timeoutMs?: number } = {}): Promise<ExecAnswer> {
    return collectOutput(this.waits, await this.runAndWait(nodeIdInput, configInput, options));
  }

  /**
   * Waits until a process ends and returns its final record. Learns of the end from the engine's events (the
   * `exec_die` of its supervisor exec, or its node's container dying), not by reading the node on a timer.
   * @throws {TimeoutError} when it still runs after `timeoutMs` (default 60000 ms); the process goes on.
   * @throws {ProcessNotFoundError} @throws {NodeNotFoundError}
   * @throws {LimitExceededError} when the node is at its memory limit and the end cannot be learned otherwise.
   */
  async wait(nodeIdInput: unknown, processIdInput: unknown, optionsInput: WaitOptions = {}): Promise<ProcessRecord> {
    const nodeId = await this.nodes.resolveId(nodeIdInput);
    const processId = parseInput(ProcessIdSchema, processIdInput, 'process id');
    const options = parseInput(WaitOptionsSchema, optionsInput, 'wait options');
    return waitForEnd(this.waits, nodeId, processId, options.timeoutMs);
  }

  /** Keeps a process's supervisor exec id (the most recent 100000: older ones are read from their records). */
  private remember(processId: string, execId: string): void {
    this.execIds.set(processId, execId);
    if (this.execIds.size > 100_000) this.execIds.delete(this.execIds.keys().next().value!);
  }

  private get waits(): WaitContext {
    return {
      tracker: this.tracker,
      ticks: this.ticks,
      execIds: this.execIds,
      containerOf: async (nodeId) => (await this.nodes.containerOf(nodeId)).id,
      get: (nodeId, processId) => this.sharedGet(nodeId, processId),
      logs: (nodeId, processId, query) => this.logs(nodeId, processId, query),
    };
  }
}
