import type Docker from 'dockerode';
import { inject, injectable } from 'tsyringe';
import type { NodesConfig } from '../config.js';
import { mapDockerError } from './docker-errors.js';
import { EngineUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { TOKENS } from '../tokens.js';
import type {
  ContainerCreateOptions,
  ContainerEngine,
  ContainerSummary,
  EngineVersion,
  ExecOptions,
  ExecResult,
  AttachedExec,
  EngineEvent,
  EventSubscription,
  ExecInfo,
  SpawnOptions,
  SpawnResult,
  NetworkCreateOptions,
  NetworkEndpoint,
  NetworkSummary,
} from './container-engine.js';
import { copyIn, copyOut } from './docker-archive.js';
import * as containers from './docker-containers.js';
import { attachExec, inspectExec, runExec, spawnExec, subscribeEvents } from './docker-exec.js';
import { hasImage, pullImage } from './docker-images.js';
import * as networks from './docker-networks.js';

/**
 * `ContainerEngine` on the Docker Engine API through dockerode: the only place that imports dockerode.
 * Every request is bounded by `engineTimeoutMs` (pulls by `pullTimeoutMs`, execs by their own timeout) and
 * aborted when it runs out, so a stalled engine cannot hang a caller.
 */
@injectable()
export class DockerEngine implements ContainerEngine {
  constructor(
    @inject(TOKENS.DockerClient) private readonly docker: Docker,
    @inject(TOKENS.Config) private readonly config: NodesConfig & { endpoint: string },
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  get endpoint(): string {
    return this.config.endpoint;
  }

  /** Runs one engine call with an abort signal and a deadline; maps every failure to a `NodeError`. */
  private async call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, timeoutMs = this.config.engineTimeoutMs): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(
          new EngineUnavailableError(
            this.endpoint,
            `engine at ${this.endpoint} did not answer within ${timeoutMs} ms during ${what}`,
          ),
        );
      }, timeoutMs);
    });
    const started = Date.now();
    try {
      return await Promise.race([fn(controller.signal), deadline]);
    } catch (error) {
      // A request whose caller gave up (a failed upload stream, say) must not stay open.
      controller.abort();
      throw mapDockerError(error, this.endpoint, what);
    } finally {
      clearTimeout(timer);
      this.logger.debug({ durationMs: Date.now() - started }, `engine: ${what}`);
    }
  }

  async ping(): Promise<void> {
    await this.call('ping', (abortSignal) => (this.docker.ping as (opts: object) => Promise<unknown>).call(this.docker, { abortSignal }));
  }

  async version(): Promise<EngineVersion> {
    const v = await this.call('version', (abortSignal) => (this.docker.version as (opts: object) => Promise<Docker.DockerVersion>).call(this.docker, { abortSignal }));
    return { version: v.Version, apiVersion: v.ApiVersion };
  }

  hasImage(ref: string): Promise<boolean> {
    return hasImage(this.docker, this.call.bind(this), ref);
  }

  pullImage(ref: string, timeoutMs: number): Promise<void> {
    return pullImage(this.docker, this.call.bind(this), this.logger, ref, timeoutMs);
  }

  createContainer(options: ContainerCreateOptions): Promise<string> {
    return containers.createContainer(this.docker, this.call.bind(this), options);
  }

  startContainer(id: string): Promise<void> {
    return containers.startContainer(this.docker, this.call.bind(this), id);
  }

  renameContainer(id: string, name: string): Promise<void> {
    return containers.renameContainer(this.docker, this.call.bind(this), id, name);
  }

  removeContainer(id: string): Promise<boolean> {
    return containers.removeContainer(this.docker, this.call.bind(this), id);
  }

  inspectContainer(id: string): Promise<ContainerSummary | undefined> {
    return containers.inspectContainer(this.docker, this.call.bind(this), id);
  }

  listContainers(labels: Record<string, string>, name?: string): Promise<ContainerSummary[]> {
    return containers.listContainers(this.docker, this.call.bind(this), labels, name);
  }

  copyOut(containerId: string, path: string): Promise<NodeJS.ReadableStream | undefined> {
    return copyOut(this.docker, this.call.bind(this), containerId, path);
  }

  copyIn(containerId: string, dir: string, tar: NodeJS.ReadableStream, options: { asContainerUser?: boolean } = {}): Promise<void> {
    return copyIn(this.docker, this.call.bind(this), this.config.engineTimeoutMs, containerId, dir, tar, options);
  }

  listNetworks(labels: Record<string, string>): Promise<NetworkSummary[]> {
    return networks.listNetworks(this.docker, this.call.bind(this), labels);
  }

  createNetwork(options: NetworkCreateOptions): Promise<string> {
    return networks.createNetwork(this.docker, this.call.bind(this), options);
  }

  removeNetwork(id: string): Promise<boolean> {
    return networks.removeNetwork(this.docker, this.call.bind(this), id);
  }

  networkContainers(id: string): Promise<string[] | undefined> {
    return networks.networkContainers(this.docker, this.call.bind(this), id);
  }

  connectNetwork(containerId: string, endpoint: NetworkEndpoint): Promise<void> {
    return networks.connectNetwork(this.docker, this.call.bind(this), containerId, endpoint);
  }

  disconnectNetwork(containerId: string, network: string): Promise<void> {
    return networks.disconnectNetwork(this.docker, this.call.bind(this), containerId, network);
  }

  pauseContainer(id: string): Promise<void> {
    return containers.pauseContainer(this.docker, this.call.bind(this), id);
  }

  unpauseContainer(id: string): Promise<void> {
    return containers.unpauseContainer(this.docker, this.call.bind(this), id);
  }

  exec(containerId: string, options: ExecOptions): Promise<ExecResult> {
    return runExec(this.docker, this.call.bind(this), this.config.engineTimeoutMs, containerId, options);
  }

  spawnExec(containerId: string, options: SpawnOptions): Promise<SpawnResult> {
    return spawnExec(this.docker, this.call.bind(this), containerId, options);
  }

  inspectExec(execId: string): Promise<ExecInfo | undefined> {
    return inspectExec(this.docker, this.call.bind(this), execId);
  }

  attachExec(containerId: string, options: { cmd: string[]; env?: Record<string, string> }): Promise<AttachedExec> {
    return attachExec(this.docker, this.call.bind(this), containerId, options);
  }

  subscribeEvents(actions: string[], onEvent: (event: EngineEvent) => void, onError: (error: Error) => void): Promise<EventSubscription> {
    return subscribeEvents(this.docker, this.call.bind(this), actions, onEvent, onError);
  }
}
