import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { inject, injectable } from 'tsyringe';
import type { NodesConfig } from '../config.js';
import { EngineError, EngineUnavailableError, ImageUnavailableError, NodeError, TimeoutError } from '../errors.js';
import type { Logger } from '../logger.js';
import { containerStateOf } from './container-states.js';
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
import { attachExec, inspectExec, spawnExec, subscribeEvents } from './docker-exec.js';
import { endpointSettingsOf, networkingOf, networksOf, portsOf, toNetworkSummary } from './docker-network-mapping.js';
import { engineMessage, mapDockerError, pullFailureReason, statusOf } from './docker-errors.js';

const toEnvList = (env: Record<string, string>): string[] => Object.entries(env).map(([k, v]) => `${k}=${v}`);

/** `["K=V", …]` (Docker's `Config.Env`) as a record; the value is everything after the first `=`. */
const fromEnvList = (list: string[]): Record<string, string> =>
  Object.fromEntries(list.map((e) => (e.includes('=') ? [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] : [e, ''])));

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

  async hasImage(ref: string): Promise<boolean> {
    try {
      await this.call(`inspect image "${ref}"`, (abortSignal) => this.docker.getImage(ref).inspect({ abortSignal } as {}));
      return true;
    } catch (error) {
      if (error instanceof NodeError && statusOf(error.cause) === 404) return false;
      throw error;
    }
  }

  async pullImage(ref: string, timeoutMs: number): Promise<void> {
    try {
      await this.call(
        `pull image "${ref}"`,
        async (abortSignal) => {
          const stream = (await this.docker.pull(ref, { abortSignal })) as NodeJS.ReadableStream;
          await new Promise<void>((resolve, reject) => {
            // The pull answers 200 and reports failures inside the progress stream.
            this.docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string }>) => {
              const failed = events?.find((e) => e.error);
              if (err) reject(err);
              else if (failed) reject(new Error(failed.error));
              else resolve();
            });
          });
        },
        timeoutMs,
      );
    } catch (error) {
      if (error instanceof NodeError && error.code === 'engine_unavailable' && !(error.cause && statusOf(error.cause))) {
        // A pull that outlives its deadline is the registry's fault, not the engine's.
        if (/did not answer within/.test(error.message)) {
          throw new ImageUnavailableError(ref, `image "${ref}" could not be pulled within ${timeoutMs} ms`, { cause: error });
        }
        throw error;
      }
      // The engine's message quotes the registry's reply, and the registry is whatever host the reference names:
      // log it for the operator, answer with a reason of ours and the engine's status.
      const detail = error instanceof NodeError && error.cause ? engineMessage(error.cause) : String((error as Error).message);
      const status = error instanceof NodeError ? statusOf(error.cause) : undefined;
      this.logger.warn({ image: ref, err: detail.slice(0, 2000) }, 'pull failed');
      throw new ImageUnavailableError(
        ref,
        `image "${ref}" is not present on the engine and could not be pulled: ${pullFailureReason(detail)} (engine status ${status ?? 'none: the pull stream reported the failure'})`,
        { cause: error },
      );
    }
  }

  async createContainer(options: ContainerCreateOptions): Promise<string> {
    const networking = networkingOf(options);
    const container = await this.call(`create container "${options.name}"`, (abortSignal) =>
      this.docker.createContainer({
        abortSignal,
        ExposedPorts: networking.exposedPorts,
        NetworkingConfig: networking.networkingConfig,
        name: options.name,
        Image: options.image,
        Env: toEnvList(options.env),
        Labels: options.labels,
        Cmd: options.cmd,
        WorkingDir: options.workingDir,
        Hostname: options.hostname,
        User: options.user,
        HostConfig: {
          // An init process (docker-init) reaps orphaned children and forwards signals; see docker run --init.
          // Not for a host helper: it shares the host's pids, where Podman refuses an init ("PID namespace isn't
          // private") and the host's init reaps anyway.
          Init: !options.hostHelper,
          Memory: options.memoryBytes,
          // Equal to Memory: no swap on top, so a memory hog meets its limit instead of swapping the host.
          MemorySwap: options.memoryBytes,
          NanoCpus: options.nanoCpus,
          PidsLimit: options.pidsLimit,
          // setuid binaries and file capabilities cannot raise a node's privileges (docker run --security-opt).
          SecurityOpt: ['no-new-privileges', ...(options.hostHelper ? ['apparmor=unconfined'] : [])],
          ...networking.hostConfig,
          ...(options.hostHelper ? { NetworkMode: 'host', PidMode: 'host', CapAdd: options.hostHelper.capAdd } : {}),
        },
      } as Docker.ContainerCreateOptions),
    );
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.call(`start container ${id.slice(0, 12)}`, (abortSignal) => this.docker.getContainer(id).start({ abortSignal } as {}));
    } catch (error) {
      // 304: already started, which is what we wanted.
      if (error instanceof NodeError && statusOf(error.cause) === 304) return;
      throw error;
    }
  }

  async renameContainer(id: string, name: string): Promise<void> {
    await this.call(`rename container ${id.slice(0, 12)} to "${name}"`, (abortSignal) =>
      this.docker.getContainer(id).rename({ name, abortSignal } as {}),
    );
  }

  async removeContainer(id: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.call(`remove container ${id.slice(0, 12)}`, (abortSignal) =>
          this.docker.getContainer(id).remove({ force: true, v: true, abortSignal } as {}),
        );
        return true;
      } catch (error) {
        const status = error instanceof NodeError ? statusOf(error.cause) : undefined;
        if (status === 404) return false;
        // 409 "removal of container … is already in progress": wait for the other removal to finish.
        if (status === 409 && attempt < 50) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        throw error;
      }
    }
  }

  async inspectContainer(id: string): Promise<ContainerSummary | undefined> {
    try {
      const info = await this.call(`inspect container ${id.slice(0, 12)}`, (abortSignal) =>
        this.docker.getContainer(id).inspect({ abortSignal } as {}),
      );
      const state = containerStateOf(info.State?.Status);
      return {
        id: info.Id,
        name: info.Name.replace(/^\//, ''),
        image: info.Config.Image,
        state,
        exitCode: state === 'exited' || state === 'dead' ? info.State.ExitCode : undefined,
        labels: info.Config.Labels ?? {},
        env: fromEnvList(info.Config.Env ?? []),
        createdAt: new Date(info.Created).toISOString(),
        // The engine reports "0001-01-01T00:00:00Z" for a container that never started.
        startedAt: info.State?.StartedAt && !info.State.StartedAt.startsWith('0001-') ? new Date(info.State.StartedAt).toISOString() : undefined,
        ...(info.State?.OOMKilled ? { oomKilled: true } : {}),
        networks: networksOf(info.NetworkSettings?.Networks),
        ports: portsOf(info.NetworkSettings?.Ports as never),
        pid: info.State?.Pid || undefined,
      };
    } catch (error) {
      if (error instanceof NodeError && statusOf(error.cause) === 404) return undefined;
      throw error;
    }
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    const list = await this.call('list containers', (abortSignal) =>
      this.docker.listContainers({ all: true, filters: JSON.stringify(filters), abortSignal } as {}),
    );
    return list.map((c) => {
      const state = containerStateOf(c.State);
      const exit = /Exited \((-?\d+)\)/.exec(c.Status ?? '');
      return {
        id: c.Id,
        name: (c.Names?.[0] ?? '').replace(/^\//, ''),
        image: c.Image,
        state,
        exitCode: exit ? Number(exit[1]) : undefined,
        labels: c.Labels ?? {},
        createdAt: new Date(c.Created * 1000).toISOString(),
        networks: networksOf(c.NetworkSettings?.Networks).map((n) => ({ ...n, aliases: [] })),
        ports: (c.Ports ?? [])
          .filter((p) => p.PublicPort)
          .map((p) => ({ containerPort: p.PrivatePort, protocol: p.Type === 'udp' ? 'udp' : 'tcp', hostIp: p.IP ?? '', hostPort: p.PublicPort ?? 0 })),
      };
    });
  }

  async copyOut(containerId: string, path: string): Promise<NodeJS.ReadableStream | undefined> {
    try {
      return await this.call(`copy ${path} out of container ${containerId.slice(0, 12)}`, (abortSignal) =>
        this.docker.getContainer(containerId).getArchive({ path, abortSignal } as {}),
      );
    } catch (error) {
      if (error instanceof NodeError && statusOf(error.cause) === 404) return undefined;
      throw error;
    }
  }

  async copyIn(containerId: string, dir: string, tar: NodeJS.ReadableStream): Promise<void> {
    await this.call(
      `copy into ${dir} of container ${containerId.slice(0, 12)}`,
      (abortSignal) =>
        new Promise<void>((resolve, reject) => {
          // A tar stream that fails midway ends the upload: the engine then sees a cut request and keeps nothing.
          (tar as Readable).on('error', reject);
          this.docker.getContainer(containerId).putArchive(tar, { path: dir, abortSignal } as {}).then(() => resolve(), reject);
        }),
      // Large files take longer than one request's usual bound: allow a generous floor on slow engines.
      Math.max(this.config.engineTimeoutMs, 10 * 60_000),
    );
  }

  async listNetworks(labels: Record<string, string>): Promise<NetworkSummary[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    const list = await this.call('list networks', (abortSignal) =>
      this.docker.listNetworks({ filters: JSON.stringify(filters), abortSignal } as {}),
    );
    return list.map(toNetworkSummary);
  }

  async createNetwork(options: NetworkCreateOptions): Promise<string> {
    const network = await this.call(`create network "${options.name}"`, (abortSignal) =>
      this.docker.createNetwork({
        abortSignal,
        Name: options.name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Internal: options.internal,
        Labels: options.labels,
        IPAM: { Driver: 'default', Config: [{ Subnet: options.subnet }] },
      } as Docker.NetworkCreateOptions),
    );
    return network.id;
  }

  async removeNetwork(id: string): Promise<boolean> {
    try {
      await this.call(`remove network ${id.slice(0, 12)}`, (abortSignal) => this.docker.getNetwork(id).remove({ abortSignal } as {}));
      return true;
    } catch (error) {
      if (error instanceof NodeError && statusOf(error.cause) === 404) return false;
      throw error;
    }
  }

  async networkContainers(id: string): Promise<string[] | undefined> {
    try {
      const info = await this.call(`inspect network ${id.slice(0, 12)}`, (abortSignal) =>
        (this.docker.getNetwork(id).inspect as (o: object) => Promise<Docker.NetworkInspectInfo>).call(this.docker.getNetwork(id), { abortSignal }),
      );
      return Object.keys((info as Docker.NetworkInspectInfo).Containers ?? {});
    } catch (error) {
      if (error instanceof NodeError && statusOf(error.cause) === 404) return undefined;
      throw error;
    }
  }

  async connectNetwork(containerId: string, endpoint: NetworkEndpoint): Promise<void> {
    await this.call(`connect container ${containerId.slice(0, 12)} to network "${endpoint.network}"`, (abortSignal) =>
      this.docker.getNetwork(endpoint.network).connect({ abortSignal, Container: containerId, EndpointConfig: endpointSettingsOf(endpoint) } as {}),
    );
  }

  async disconnectNetwork(containerId: string, network: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.disconnectOnce(containerId, network);
      } catch (error) {
        // Podman 4.3 (netavark 1.4), under concurrent network changes: "aardvark pid not found" while its DNS
        // server restarts. A moment later the same call works.
        if (attempt < 4 && error instanceof NodeError && /aardvark pid not found/i.test(error.message)) {
          await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
          continue;
        }
        throw error;
      }
    }
  }

  private async disconnectOnce(containerId: string, network: string): Promise<void> {
    try {
      await this.call(`disconnect container ${containerId.slice(0, 12)} from network "${network}"`, (abortSignal) =>
        this.docker.getNetwork(network).disconnect({ abortSignal, Container: containerId, Force: true } as {}),
      );
    } catch (error) {
      // 404: no such network or container; "is not connected" (Docker: 403, or 500 in a race; Podman: 500):
      // either way it is not attached.
      const status = error instanceof NodeError ? statusOf(error.cause) : undefined;
      if (status === 404 || (status !== undefined && /not connected/i.test(engineMessage((error as NodeError).cause)))) return;
      throw error;
    }
  }

  async pauseContainer(id: string): Promise<void> {
    await this.call(`pause container ${id.slice(0, 12)}`, (abortSignal) => this.docker.getContainer(id).pause({ abortSignal } as {}));
  }

  async unpauseContainer(id: string): Promise<void> {
    await this.call(`unpause container ${id.slice(0, 12)}`, (abortSignal) => this.docker.getContainer(id).unpause({ abortSignal } as {}));
  }

  async exec(containerId: string, options: ExecOptions): Promise<ExecResult> {
    const what = `exec in container ${containerId.slice(0, 12)}`;
    const timeoutMs = options.timeoutMs ?? this.config.engineTimeoutMs;
    const run = async (abortSignal: AbortSignal): Promise<ExecResult> => {
      const exec = await this.docker.getContainer(containerId).exec({
        abortSignal,
        Cmd: options.cmd,
        Env: options.env ? toEnvList(options.env) : undefined,
        WorkingDir: options.workingDir,
        AttachStdin: options.stdin !== undefined,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      } as Docker.ExecCreateOptions);
      const stream = await exec.start({ hijack: true, stdin: options.stdin !== undefined });
      abortSignal.addEventListener('abort', () => stream.destroy(), { once: true });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let bytes = 0;
      const keep = (into: Buffer[]) => (b: Buffer) => {
        bytes += b.length;
        if (options.maxOutputBytes !== undefined && bytes > options.maxOutputBytes) {
          stream.destroy(new EngineError(`${what} wrote more than ${options.maxOutputBytes} bytes of output`));
          return;
        }
        into.push(b);
      };
      const out = new PassThrough().on('data', keep(stdout));
      const err = new PassThrough().on('data', keep(stderr));
      // Without a TTY the engine multiplexes both streams on one connection: demultiplex it.
      this.docker.modem.demuxStream(stream, out, err);
      const ended = new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', reject);
      });
      if (options.stdin !== undefined) stream.end(options.stdin);
      await ended;
      // The exit code is null until the engine has seen the process end: poll briefly.
      for (;;) {
        const info = await exec.inspect({ abortSignal } as {});
        if (!info.Running && info.ExitCode !== null) {
          return { exitCode: info.ExitCode, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) };
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      return await this.call(what, run, timeoutMs);
    } catch (error) {
      if (error instanceof EngineUnavailableError && /did not answer within/.test(error.message) && options.timeoutMs) {
        throw new TimeoutError(`${what} did not finish within ${timeoutMs} ms`);
      }
      throw error;
    }
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
