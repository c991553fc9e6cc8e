import { createHash, randomBytes } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { NodesConfig } from '../config.js';
import type { ContainerEngine, ExecResult } from '../engine/container-engine.js';
import { ConflictError, EngineError, ProcessNotFoundError, TimeoutError, ValidationError, WrongStateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { NodeService } from '../node/node-service.js';
import { NodeIdSchema, ProcessIdSchema, type NodeId } from '../schemas/common.js';
import { parseInput } from '../schemas/parse.js';
import {
  KillOptionsSchema,
  LogsQuerySchema,
  OutputQuerySchema,
  OutputStreamSchema,
  ProcessConfigSchema,
  WaitOptionsSchema,
  type KillOptions,
  type LogsQuery,
  type ProcessLogs,
  type OutputChunk,
  type OutputQuery,
  type ProcessRecord,
  type WaitOptions,
} from '../schemas/process.js';
import { TOKENS } from '../tokens.js';
import { KILL_SCRIPT, LAUNCH_SCRIPT, OUTPUT_SCRIPT, READ_SCRIPT } from './node-scripts.js';
import { UTF8_LOOKAHEAD_BYTES, parseLogsOutput } from './output-slices.js';
import { parseRecords, toRecord } from './process-records.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LAUNCHER_FILE = `launch-${createHash('sha256').update(LAUNCH_SCRIPT).digest('hex').slice(0, 12)}.sh`;
/** Installs the launcher as a file once per container (so `ps` in the node shows a short line), then runs it. */
const RUN_LAUNCHER = 'f=$1; shift; [ -f "$f" ] || { mkdir -p "${f%/*}" && cat > "$f.$$" && mv "$f.$$" "$f"; } || exit 97; exec /bin/sh "$f" "$@"';

/** Processes run in nodes with `exec`: start, read, follow, kill, wait. Records live inside the node. */
@injectable()
export class ProcessService {
  constructor(
    @inject(TOKENS.ContainerEngine) private readonly engine: ContainerEngine,
    @inject(TOKENS.Config) private readonly config: NodesConfig,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(NodeService) private readonly nodes: NodeService,
  ) {}

  /**
   * The node's container id, when it is running: processes are started, read and killed with `exec`, which needs
   * a running container (a stopped node's records come back with its next reset).
   * @throws {NodeNotFoundError} @throws {WrongStateError} when the node is not running.
   */
  private async runningContainer(nodeId: NodeId): Promise<string> {
    const container = await this.nodes.containerOf(nodeId);
    if (container.state !== 'running') {
      const exit = container.exitCode === undefined ? '' : `, exit code ${container.exitCode}`;
      throw new WrongStateError(`node "${nodeId}" is not running (state: ${container.state}${exit}); reset it to use its processes again`);
    }
    return container.id;
  }

  /** Runs one of the node scripts with `sh -c`; records are readable in a stopped node only after a reset. */
  private async script(containerId: string, script: string, args: string[], extra: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return this.engine.exec(containerId, { cmd: ['/bin/sh', '-c', script, 'nodes', ...args], ...extra });
  }

  /**
   * Runs a node script in the node's running container, holding the node's lock shared: beside other reads and
   * starts, never during a reset or remove in this manager, so that a read sees the node before or after one,
   * never half-way. A reset or remove by another manager can still move the container away: a read that meets the
   * old container being removed (`ConflictError`) is tried once more on the current one.
   */
  private inNode(nodeId: NodeId, script: string, args: string[], timeoutMs?: number): Promise<ExecResult> {
    return this.nodes.withSharedNodeLock(nodeId, async () => {
      try {
        return await this.script(await this.runningContainer(nodeId), script, args, { timeoutMs });
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        return this.script(await this.runningContainer(nodeId), script, args, { timeoutMs });
      }
    });
  }

  /**
   * Starts a process in a running node (schema `ProcessConfigSchema`: the spec's `run_process_on_node` config)
   * and returns at once with its record. Mirrors `POST /containers/{id}/exec` + `/exec/{id}/start`: the command
   * runs in its own session under a supervisor inside the node, so it outlives this call and the manager.
   * @throws {ValidationError} on an invalid config or a working directory that does not exist in the node.
   * @throws {NodeNotFoundError} when the node does not exist. @throws {WrongStateError} when it is not running.
   */
  async start(nodeIdInput: unknown, configInput: unknown): Promise<ProcessRecord> {
    const nodeId = parseInput(NodeIdSchema, nodeIdInput, 'node id');
    const config = parseInput(ProcessConfigSchema, configInput, 'process config');
    const processId = `p-${randomBytes(6).toString('hex')}`;
    const meta = JSON.stringify({
      name: config.name,
      command: config.command,
      path: config.path,
      envKeys: Object.keys(config.env),
      timeoutMs: config.timeoutMs,
    });
    const mode = typeof config.command === 'string' ? 'shell' : 'argv';
    const argv = typeof config.command === 'string' ? [config.command] : config.command;
    const result = await this.nodes.withSharedNodeLock(nodeId, async () => {
      const containerId = await this.runningContainer(nodeId);
      const args = [
        `${this.config.stateDir}/bin/${LAUNCHER_FILE}`,
        this.config.stateDir,
        processId,
        config.path,
        String(this.config.outputCapBytes),
        String(config.timeoutMs ?? 0),
        String(config.graceMs),
        mode,
        meta,
        ...argv,
      ];
      return this.engine.exec(containerId, {
        cmd: ['/bin/sh', '-c', RUN_LAUNCHER, 'nodes', ...args],
        env: config.env,
        stdin: LAUNCH_SCRIPT,
      });
    });
    const message = result.stderr.toString('utf8').trim();
    if (result.exitCode === 96) throw new ValidationError(`invalid process config: path: ${message}`, [`path: ${message}`]);
    if (result.exitCode !== 0) {
      throw new EngineError(`process "${config.name}" could not be started on node "${nodeId}": ${message || `launcher exit code ${result.exitCode}`}`);
    }
    this.logger.info({ nodeId, processId, name: config.name }, 'process started');
    return this.recordFrom(result, nodeId, processId);
  }

  /** The record a node script printed (as READ_SCRIPT does); read again when it printed none. */
  private recordFrom(result: ExecResult, nodeId: NodeId, processId: string): Promise<ProcessRecord> {
    const raw = parseRecords(result.stdout.toString('utf8')).get(processId);
    return raw ? Promise.resolve(toRecord(nodeId, processId, raw, this.config.outputCapBytes)) : this.get(nodeId, processId);
  }

  /** Records of the given processes of a node, all when `processIds` is empty. */
  private async read(nodeId: NodeId, processIds: string[]): Promise<ProcessRecord[]> {
    const result = await this.inNode(nodeId, READ_SCRIPT, [this.config.stateDir, ...processIds]);
    const raw = parseRecords(result.stdout.toString('utf8'));
    return [...raw].map(([id, r]) => toRecord(nodeId, id, r, this.config.outputCapBytes));
  }

  /**
   * The record of one process (schema `ProcessRecordSchema`).
   * @throws {ProcessNotFoundError} when the node has no such process. @throws {NodeNotFoundError}
   */
  async get(nodeIdInput: unknown, processIdInput: unknown): Promise<ProcessRecord> {
    const nodeId = parseInput(NodeIdSchema, nodeIdInput, 'node id');
    const processId = parseInput(ProcessIdSchema, processIdInput, 'process id');
    const [record] = await this.read(nodeId, [processId]);
    if (record) return record;
    // A node removed or stopped during the read leaves no record either: say so rather than "no such process".
    await this.runningContainer(nodeId);
    throw new ProcessNotFoundError(nodeId, processId);
  }

  /** Every process started in the node since it was created, oldest first (including those lost in resets). */
  async list(nodeIdInput: unknown): Promise<ProcessRecord[]> {
    const nodeId = parseInput(NodeIdSchema, nodeIdInput, 'node id');
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
   * Reads a process's record and a slice of each of its streams in one exec (schema `LogsQuerySchema`): from
   * `stdoutOffset` and `stderrOffset`, at most `limitBytes` of each, so that a client can page or resume. At most
   * `outputCapBytes` of each stream are kept; `truncated` says when more was written.
   * @returns schema `ProcessLogsSchema`. @throws {ProcessNotFoundError} @throws {NodeNotFoundError}
   * @throws {WrongStateError} when the node is not running.
   */
  async logs(nodeIdInput: unknown, processIdInput: unknown, queryInput: LogsQuery = {}): Promise<ProcessLogs> {
    const nodeId = parseInput(NodeIdSchema, nodeIdInput, 'node id');
    const processId = parseInput(ProcessIdSchema, processIdInput, 'process id');
    const query = parseInput(LogsQuerySchema, queryInput, 'logs query');
    const cap = this.config.outputCapBytes;
    const limitFrom = (offset: number) => Math.max(0, Math.min(query.limitBytes, cap - offset));
    const stdoutLimit = limitFrom(query.stdoutOffset);
    const stderrLimit = limitFrom(query.stderrOffset);
    // In utf8 read a few bytes past the page, so that a page can end on, or hold, a whole character.
    const extra = query.encoding === 'utf8' ? UTF8_LOOKAHEAD_BYTES : 0;
    const readFrom = (offset: number, limit: number) => String(Math.min(limit + extra, Math.max(0, cap - offset)));
    const args = [String(query.stdoutOffset), readFrom(query.stdoutOffset, stdoutLimit), String(query.stderrOffset), readFrom(query.stderrOffset, stderrLimit)];
    const result = await this.inNode(nodeId, OUTPUT_SCRIPT, [this.config.stateDir, processId, ...args]);
    if (result.exitCode === 3) throw new ProcessNotFoundError(nodeId, processId);
    const logs = parseLogsOutput(result.stdout, {
      nodeId,
      processId,
      capBytes: cap,
      encoding: query.encoding,
      stdout: { offset: query.stdoutOffset, limit: stdoutLimit },
      stderr: { offset: query.stderrOffset, limit: stderrLimit },
    });
    if (logs) return logs;
    // A node removed or stopped during the read cuts the output short: say so rather than "unreadable".
    await this.runningContainer(nodeId);
    throw new EngineError(`output of process "${processId}" on node "${nodeId}" could not be read (exit code ${result.exitCode})`);
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
   * Kills a process and every process of its group inside the node: sends `signal` (default SIGTERM), then
   * SIGKILL after `graceMs` (default 5000 ms), and returns the final record once the group is gone. The Engine
   * API has no call to kill an exec, so this runs `kill` in the node. Killing an ended process kills what is left
   * of its group (background children) and keeps its record as it was.
   * @throws {ProcessNotFoundError} @throws {NodeNotFoundError} @throws {WrongStateError} when the node is not running.
   */
  async kill(nodeIdInput: unknown, processIdInput: unknown, optionsInput: KillOptions = {}): Promise<ProcessRecord> {
    const nodeId = parseInput(NodeIdSchema, nodeIdInput, 'node id');
    const processId = parseInput(ProcessIdSchema, processIdInput, 'process id');
    const options = parseInput(KillOptionsSchema, optionsInput, 'kill options');
    const result = await this.inNode(nodeId, KILL_SCRIPT, [this.config.stateDir, processId, options.signal, String(options.graceMs)], options.graceMs + 15_000);
    if (result.exitCode === 3) throw new ProcessNotFoundError(nodeId, processId);
    if (result.exitCode === 4) throw new EngineError(`process "${processId}" on node "${nodeId}" is still alive after SIGKILL`);
    this.logger.info({ nodeId, processId, signal: options.signal }, 'process killed');
    return this.recordFrom(result, nodeId, processId);
  }

  /**
   * Waits until a process ends and returns its final record.
   * @throws {TimeoutError} when it still runs after `timeoutMs` (default 60000 ms); the process goes on.
   * @throws {ProcessNotFoundError} @throws {NodeNotFoundError}
   */
  async wait(nodeIdInput: unknown, processIdInput: unknown, optionsInput: WaitOptions = {}): Promise<ProcessRecord> {
    const nodeId = parseInput(NodeIdSchema, nodeIdInput, 'node id');
    const processId = parseInput(ProcessIdSchema, processIdInput, 'process id');
    const options = parseInput(WaitOptionsSchema, optionsInput, 'wait options');
    const deadline = Date.now() + options.timeoutMs;
    const timedOut = () => new TimeoutError(`process "${processId}" on node "${nodeId}" still runs after ${options.timeoutMs} ms`);
    let first = true;
    for (let pollMs = 25; ; pollMs = Math.min(pollMs * 2, 500)) {
      // The first read always completes (so an unknown process is reported as such); later ones are cut at the
      // deadline, so a slow engine cannot stretch the wait past timeoutMs.
      const read = this.get(nodeId, processId);
      let timer: NodeJS.Timeout | undefined;
      const record = first
        ? await read
        : await Promise.race([
            read,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(timedOut()), Math.max(0, deadline - Date.now()));
            }),
          ]).finally(() => clearTimeout(timer));
      first = false;
      if (record.status !== 'running') return record;
      const left = deadline - Date.now();
      if (left <= 0) throw timedOut();
      await sleep(Math.min(pollMs, left));
    }
  }
}
