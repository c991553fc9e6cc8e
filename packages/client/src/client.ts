import { followLogs, type FollowOptions } from './follow-logs.js';
import { headersOf, readResult, send, type Endpoint } from './http.js';
import type { Args, LogEvent, MethodName, NodeSpecInput, Options, ProcessConfigInput, Result, WireNode, WireProcess } from './types.js';

/** Options of a client; each falls back to the environment, then to a default. */
export interface ClientOptions {
  /** The server's base URL; default `NODES_URL`, else `http://127.0.0.1:8080`. */
  url?: string;
  /** Bearer token sent as `Authorization: Bearer <token>`; default `NODES_TOKEN`, else none. */
  token?: string;
  /** The fetch to use (default the global one, Node's undici). */
  fetch?: typeof fetch;
}

/** The default base URL of a server: `NODES_URL`, else the one `./scripts/start` listens on. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

/**
 * A typed client of a @nodes server. Its methods mirror `NodeManager`'s and send the wire format's requests
 * (`POST /` with `{method, args, timestamp}`); args and answers are the wire's snake_case shapes, typed from the
 * server's zod schemas. Failures throw the library's `NodeError` subclasses with the same codes
 * (`NodeNotFoundError`, `ValidationError`, …); a server that does not answer throws `ServerUnavailableError`.
 */
export class NodesClient {
  private readonly endpoint: Endpoint;

  constructor(options: ClientOptions = {}) {
    const url = options.url ?? process.env.NODES_URL ?? DEFAULT_URL;
    const token = options.token ?? (process.env.NODES_TOKEN || undefined);
    this.endpoint = { url: url.endsWith('/') ? url : `${url}/`, token, fetch: options.fetch ?? fetch };
  }

  /** The base URL requests go to (with a trailing `/`). */
  get url(): string {
    return this.endpoint.url;
  }

  /**
   * Calls any method of the wire format by name, typed by the method table: what `POST /` answers under `result`.
   * @throws {NodeError} the subclass of the failure's code. @throws {ServerUnavailableError} when nothing answers.
   */
  async call<M extends MethodName>(method: M, args?: Args<M>, init: { signal?: AbortSignal } = {}): Promise<Result<M>> {
    const body = JSON.stringify({ method, ...(args === undefined ? {} : { args }), timestamp: Date.now() / 1000 });
    const res = await send(this.endpoint, '', { method: 'POST', body, headers: headersOf(this.endpoint, { 'content-type': 'application/json' }), signal: init.signal });
    return (await readResult(this.endpoint, res)) as Result<M>;
  }

  /** Creates and starts a node (`create_node`); returns it. Pulls its image when missing, as the server does. */
  async createNode(spec?: NodeSpecInput): Promise<WireNode> {
    return (await this.call('create_node', spec)).node;
  }

  /** Kills and removes a node's container (`remove_node`). */
  async removeNode(nodeId: string): Promise<void> {
    await this.call('remove_node', { node_id: nodeId });
  }

  /** Recreates a node's container from its spec under the same node id (`reset_node`). */
  async resetNode(nodeId: string): Promise<WireNode> {
    return (await this.call('reset_node', { node_id: nodeId })).node;
  }

  /** Engine and node health (`get_health`): `health` is `good` or `bad`, with reasons. */
  getHealth(): Promise<Result<'get_health'>> {
    return this.call('get_health');
  }

  /** Every node of the server's namespace (`list_nodes`). */
  async listNodes(): Promise<WireNode[]> {
    return (await this.call('list_nodes')).nodes;
  }

  /** One node, with its process counts by status when running (`get_node`). */
  async getNode(nodeId: string): Promise<WireNode> {
    return (await this.call('get_node', { node_id: nodeId })).node;
  }

  /** Removes the namespace's containers that are not live nodes (`prune_nodes`); returns what it removed. */
  async pruneNodes(): Promise<Result<'prune_nodes'>['removed']> {
    return (await this.call('prune_nodes')).removed;
  }

  /** Starts a process in a node (`run_process_on_node`) and returns its record. */
  async runProcess(nodeId: string, config: ProcessConfigInput, options?: Options<'run_process_on_node', 'node_id' | 'config'>): Promise<WireProcess> {
    return (await this.call('run_process_on_node', { ...options, node_id: nodeId, config } as Args<'run_process_on_node'>)).process;
  }

  /** One process's record (`get_process`). */
  async getProcess(nodeId: string, processId: string): Promise<WireProcess> {
    return (await this.call('get_process', { node_id: nodeId, process_id: processId })).process;
  }

  /** Every process of a node (`list_processes`). */
  async listProcesses(nodeId: string): Promise<WireProcess[]> {
    return (await this.call('list_processes', { node_id: nodeId })).processes;
  }

  /** A process's record and a slice of both streams from byte offsets (`get_process_logs`). */
  getProcessLogs(nodeId: string, processId: string, query?: Options<'get_process_logs', 'node_id' | 'process_id'>): Promise<Result<'get_process_logs'>> {
    return this.call('get_process_logs', { ...query, node_id: nodeId, process_id: processId });
  }

  /** Kills a process and its group (`kill_process`, default TERM then KILL after 5000 ms); returns its record. */
  async killProcess(nodeId: string, processId: string, options?: Options<'kill_process', 'node_id' | 'process_id'>): Promise<WireProcess> {
    return (await this.call('kill_process', { ...options, node_id: nodeId, process_id: processId })).process;
  }

  /**
   * Waits for a process to end (`wait_process`, `timeout_ms` default 60000) and returns its final record.
   * @throws {TimeoutError} when it is still running at the deadline.
   */
  async waitProcess(nodeId: string, processId: string, options?: Options<'wait_process', 'node_id' | 'process_id'>): Promise<WireProcess> {
    return (await this.call('wait_process', { ...options, node_id: nodeId, process_id: processId })).process;
  }

  /** Writes a file into a node (`write_file`; bytes as they are, a string as UTF-8); returns its path, size and mode. */
  async writeFile(nodeId: string, path: string, data: Uint8Array | string, options?: Options<'write_file', 'node_id' | 'path' | 'data'>): Promise<Result<'write_file'>['file']> {
    const base64 = (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)).toString('base64');
    return (await this.call('write_file', { ...options, node_id: nodeId, path, data: base64 })).file;
  }

  /** Reads a file of a node (`read_file`, at most 16 MiB over the wire): its info and its exact bytes. */
  async readFile(nodeId: string, path: string): Promise<{ file: Result<'read_file'>['file']; data: Buffer }> {
    const result = await this.call('read_file', { node_id: nodeId, path });
    return { file: result.file, data: Buffer.from(result.data, 'base64') };
  }

  /** Lists a directory of a node (`list_files`): entries with type, size (bytes), mode and mtime. */
  listFiles(nodeId: string, path: string): Promise<Result<'list_files'>> {
    return this.call('list_files', { node_id: nodeId, path });
  }

  /** Cuts the namespace's nodes into groups that cannot reach each other (`partition_nodes`); returns the groups by node id. */
  async partitionNodes(groups: string[][]): Promise<string[][]> {
    return (await this.call('partition_nodes', { groups })).groups;
  }

  /** Lifts every partition (`heal_nodes`); returns the running nodes it healed. */
  async healNodes(): Promise<string[]> {
    return (await this.call('heal_nodes')).node_ids;
  }

  /** Sets a node's link faults (`set_link`: `delay_ms`, `jitter_ms`, `loss_percent`, `rate_kbit`). */
  async setLink(nodeId: string, link: Options<'set_link', 'node_id'>): Promise<Result<'set_link'>['link']> {
    return (await this.call('set_link', { ...link, node_id: nodeId })).link;
  }

  /** Clears a node's link faults (`clear_link`). */
  async clearLink(nodeId: string): Promise<void> {
    await this.call('clear_link', { node_id: nodeId });
  }

  /** Freezes every process of a node (`pause_node`, Docker's pause). */
  async pauseNode(nodeId: string): Promise<void> {
    await this.call('pause_node', { node_id: nodeId });
  }

  /** Thaws a paused node (`unpause_node`). */
  async unpauseNode(nodeId: string): Promise<void> {
    await this.call('unpause_node', { node_id: nodeId });
  }

  /**
   * Follows a process's output live over Server-Sent Events, resuming by `Last-Event-ID` when the connection
   * drops; see `FollowOptions`. Ends after the `end` event, whose record says how the process ended.
   */
  followLogs(nodeId: string, processId: string, options?: FollowOptions): AsyncGenerator<LogEvent, WireProcess | undefined> {
    return followLogs(this.endpoint, nodeId, processId, options);
  }
}

/** A client of the server at `NODES_URL` (default `http://127.0.0.1:8080`), with `NODES_TOKEN` when set. */
export function createClient(options?: ClientOptions): NodesClient {
  return new NodesClient(options);
}
