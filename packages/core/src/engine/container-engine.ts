import type { ContainerState } from '../schemas/common.js';

/** What the core asks the engine to create: one node's container. Units are ours; `engine/` converts them. */
export interface ContainerCreateOptions {
  name: string;
  image: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  /** argv of the main process; undefined keeps the image's `CMD`. */
  cmd?: string[];
  workingDir?: string;
  hostname?: string;
  /** memory limit, also the memory+swap limit (no swap) */
  memoryBytes?: number;
  /** CPU limit, 1e9 = one CPU */
  nanoCpus?: number;
  /** most processes and threads at once */
  pidsLimit?: number;
  /** `user`, `uid`, `user:group` or `uid:gid`; undefined keeps the image's */
  user?: string;
  /**
   * The network the container starts on (`HostConfig.NetworkMode` + `NetworkingConfig.EndpointsConfig`);
   * undefined leaves Docker's default bridge. More networks are joined with `connectNetwork` before the start.
   */
  network?: NetworkEndpoint;
  /** Ports published on the host (`HostConfig.PortBindings`, `ExposedPorts`). */
  ports?: PortBinding[];
  /**
   * For the namespace's network agent only: share the engine host's network and pid namespaces
   * (`NetworkMode: host`, `PidMode: host`) with these capabilities added (`CapAdd`), AppArmor unconfined.
   */
  hostHelper?: { capAdd: string[] };
}

/** A container's place on one network: `EndpointSettings.Aliases` and `IPAMConfig.IPv4Address`. */
export interface NetworkEndpoint {
  /** the Docker network's id (a name works too, but two networks may share a name) */
  network: string;
  /** DNS names the container answers to on the network, besides its container name */
  aliases: string[];
  /** a fixed IPv4 address; undefined lets the engine pick one from the network's subnet */
  ipv4Address?: string;
}

/** One published port: `container_port/protocol` bound to `hostIp:hostPort` (hostPort 0: the engine picks). */
export interface PortBinding {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
}

/** A container's endpoint on one network, as inspect shows it (`NetworkSettings.Networks`). */
export interface ContainerNetwork {
  /** the network's name */
  network: string;
  networkId: string;
  /** empty while the container is not running */
  ipv4Address: string;
  /** `Aliases` (only inspect gives them; the listing reports none) */
  aliases: string[];
  /** the address asked for at connect time (`IPAMConfig.IPv4Address`), kept while the container is stopped */
  configuredIpv4Address?: string;
}

/** A network, from `GET /networks`. */
export interface NetworkSummary {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** IPv4 subnets of the network's IPAM config (CIDR) */
  subnets: string[];
  internal: boolean;
  /** ISO 8601, with the engine's nanoseconds cut to ms */
  createdAt: string;
}

/** What the core asks the engine to create: one bridge network with a subnet we chose. */
export interface NetworkCreateOptions {
  name: string;
  labels: Record<string, string>;
  /** CIDR, for example `10.213.4.0/24`; fixed addresses need a subnet chosen by the caller */
  subnet: string;
  /** `Internal`: no route out of the network (no egress, no published ports) */
  internal: boolean;
}

/** A container as the core needs to see it (`GET /containers/json` and `GET /containers/{id}/json`). */
export interface ContainerSummary {
  id: string;
  /** without Docker's leading `/` */
  name: string;
  image: string;
  state: ContainerState;
  /** set once the container has exited */
  exitCode?: number;
  labels: Record<string, string>;
  /** the container's environment (`Config.Env`, image's included); only `inspectContainer` gives it */
  env?: Record<string, string>;
  /** ISO 8601 */
  createdAt: string;
  /**
   * When the engine last started the container (ISO 8601, `State.StartedAt`); only `inspectContainer` gives it,
   * and only once the container was started.
   */
  startedAt?: string;
  /** `State.OOMKilled`: the kernel's out-of-memory killer ended the main process; only `inspectContainer` gives it */
  oomKilled?: boolean;
  /** the container's networks; from the listing without aliases */
  networks?: ContainerNetwork[];
  /** published ports as bound on the host, once the container runs */
  ports?: PortBinding[];
  /** the main process's pid on the engine's host (`State.Pid`); only `inspectContainer` gives it */
  pid?: number;
}

/** One command run with `exec` and waited for. */
export interface ExecOptions {
  cmd: string[];
  env?: Record<string, string>;
  workingDir?: string;
  /** bytes piped to the command's stdin, which is then closed */
  stdin?: string | Buffer;
  /** how long the command may run before the call fails with `TimeoutError` (ms) */
  timeoutMs?: number;
  /** the most stdout and stderr (together, bytes) kept; past it the call fails with `EngineError` (default: no bound) */
  maxOutputBytes?: number;
  /** who runs the command (`User` of `POST /containers/{id}/exec`: `0`, `uid:gid`, a name); default: the container's user */
  user?: string;
}

/** A command started with `exec` that goes on running after the call returns (see `ContainerEngine.spawnExec`). */
export interface SpawnOptions {
  cmd: string[];
  env?: Record<string, string>;
  /** bytes piped to the command's stdin, then closed; made from the exec's id, which is known before it starts */
  stdin: (execId: string) => Buffer;
  /** the command acknowledges its start with a stdout line starting with this */
  ackPrefix: string;
  /**
   * true (default): return at the acknowledgement, the command running on detached from the call; false: stay
   * attached until it ends and return all it wrote (at most `maxOutputBytes`) and its exit code
   */
  detach?: boolean;
  /** when attached to the end, the most stdout and stderr kept (bytes, default 64 KiB); past it the call fails */
  maxOutputBytes?: number;
  /** called once when the acknowledgement is seen (also when staying attached) */
  onAck?: () => void;
  /** how long until the acknowledgement or the exit (ms) */
  timeoutMs?: number;
}

/** What `spawnExec` saw: the exec's id, its output so far, and its exit code when it ended before acknowledging. */
export interface SpawnResult {
  execId: string;
  acknowledged: boolean;
  stdout: Buffer;
  stderr: Buffer;
  exitCode?: number;
}

/** One exec as the engine reports it (`GET /exec/{id}/json`). */
export interface ExecInfo {
  id: string;
  containerId: string;
  running: boolean;
  /** set once it has ended */
  exitCode?: number;
  /** argv after the entrypoint */
  args: string[];
}

/** A long-lived attached exec (see `ContainerEngine.attachExec`): its demultiplexed stdout and how to end it. */
export interface AttachedExec {
  execId: string;
  stdout: NodeJS.ReadableStream;
  /** resolves when the stream ends (the command ended, or `close` was called) */
  ended: Promise<void>;
  /** closes the connection: the command sees its stdin end */
  close(): void;
}

/** An engine event (`GET /events`): `type` (`container`…), `action` (`exec_die`, `die`, `destroy`, `oom`…), `id`. */
export interface EngineEvent {
  type: string;
  action: string;
  /** the container's id for container events */
  id: string;
  attributes: Record<string, string>;
}

/** A subscription to engine events; `close` ends it. */
export interface EventSubscription {
  close(): void;
}

/** Output of a finished exec, stdout and stderr demultiplexed. */
export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Engine identity, from `GET /version`. */
export interface EngineVersion {
  version: string;
  apiVersion: string;
}

/**
 * The port through which the core talks to a container engine. `DockerEngine` implements it with dockerode;
 * unit tests give a fake. Every method throws only `NodeError`s: engine errors are mapped in `engine/`.
 */
export interface ContainerEngine {
  /** the endpoint, for messages: `unix:///var/run/docker.sock` or `tcp://…` */
  readonly endpoint: string;
  /**
   * `GET /_ping`: whether the engine answers, at the least cost (Podman takes hundreds of ms for `/version`).
   * @throws {EngineUnavailableError} when the engine does not answer.
   */
  ping(): Promise<void>;
  /** `GET /version`. @throws {EngineUnavailableError} when the engine does not answer. */
  version(): Promise<EngineVersion>;
  /** `GET /images/{name}/json`: true when the image is on the engine. */
  hasImage(ref: string): Promise<boolean>;
  /** `POST /images/create`, waiting for the pull to end. @throws {ImageUnavailableError} */
  pullImage(ref: string, timeoutMs: number): Promise<void>;
  /** `POST /containers/create`; returns the container id. @throws {ConflictError} on a name in use. */
  createContainer(options: ContainerCreateOptions): Promise<string>;
  /** `POST /containers/{id}/start`; an already running container is fine (304). */
  startContainer(id: string): Promise<void>;
  /** `POST /containers/{id}/rename`. @throws {ConflictError} when the name is in use. */
  renameContainer(id: string, name: string): Promise<void>;
  /** `DELETE /containers/{id}?force=true`; false when there was no such container. */
  removeContainer(id: string): Promise<boolean>;
  /** `GET /containers/{id}/json`; undefined when there is no such container. */
  inspectContainer(id: string): Promise<ContainerSummary | undefined>;
  /**
   * `GET /containers/json?all=true&filters={label:[…],name:[…]}`: every container carrying all these `key=value`
   * labels and, with `name`, whose name matches it (the engine's `name` filter: a regular expression, unanchored).
   */
  listContainers(labels: Record<string, string>, name?: string): Promise<ContainerSummary[]>;
  /** `GET /containers/{id}/archive?path=…`: a tar of the path; undefined when the path does not exist. */
  copyOut(containerId: string, path: string): Promise<NodeJS.ReadableStream | undefined>;
  /**
   * `PUT /containers/{id}/archive?path=dir`: extracts a tar into an existing directory. With `asContainerUser`
   * (`copyUIDGID=1`, as `docker cp -a`) what it makes belongs to the container's user instead of the tar's owners.
   */
  copyIn(containerId: string, dir: string, tar: NodeJS.ReadableStream, options?: { asContainerUser?: boolean }): Promise<void>;
  /** `GET /networks?filters={label:[…]}`; with no labels, every network of the engine. */
  listNetworks(labels: Record<string, string>): Promise<NetworkSummary[]>;
  /** `POST /networks/create` (bridge driver). @throws {ConflictError} when the name or the subnet is taken. */
  createNetwork(options: NetworkCreateOptions): Promise<string>;
  /** `DELETE /networks/{id}`; false when there was no such network. @throws {ConflictError} while containers use it. */
  removeNetwork(id: string): Promise<boolean>;
  /** `GET /networks/{id}`: the ids of the containers attached to it; undefined when there is no such network. */
  networkContainers(id: string): Promise<string[] | undefined>;
  /** `POST /networks/{id}/connect` with aliases and an optional fixed address; works on created and running containers. */
  connectNetwork(containerId: string, endpoint: NetworkEndpoint): Promise<void>;
  /** `POST /networks/{id}/disconnect?force=true`; a container not attached is fine. */
  disconnectNetwork(containerId: string, network: string): Promise<void>;
  /** `POST /containers/{id}/pause`. */
  pauseContainer(id: string): Promise<void>;
  /** `POST /containers/{id}/unpause`. */
  unpauseContainer(id: string): Promise<void>;
  /** `POST /containers/{id}/exec` and `/exec/{id}/start`, attached, then waits for the exit code. */
  exec(containerId: string, options: ExecOptions): Promise<ExecResult>;
  /**
   * `POST /containers/{id}/exec` and `/exec/{id}/start`, attached: writes stdin, then returns once the command
   * acknowledges on stdout (it runs on; the engine keeps its exit code, see `inspectExec`) or ends.
   */
  spawnExec(containerId: string, options: SpawnOptions): Promise<SpawnResult>;
  /** `GET /exec/{id}/json`; undefined when the engine no longer knows the exec. */
  inspectExec(execId: string): Promise<ExecInfo | undefined>;
  /** `POST /containers/{id}/exec` and `/exec/{id}/start`, attached with stdin open, streaming its stdout until it ends. */
  attachExec(containerId: string, options: { cmd: string[]; env?: Record<string, string> }): Promise<AttachedExec>;
  /**
   * `GET /events?filters=…`: calls `onEvent` for each container event of these actions until closed; `onError`
   * once when the stream fails or ends (the engine went away).
   */
  subscribeEvents(actions: string[], onEvent: (event: EngineEvent) => void, onError: (error: Error) => void): Promise<EventSubscription>;
}
