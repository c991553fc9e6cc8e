import type { AttachedExec, ContainerCreateOptions, ContainerEngine, ContainerSummary, ExecOptions, ExecResult, NetworkCreateOptions, NetworkEndpoint, NetworkSummary, SpawnOptions, SpawnResult } from '@nodes/core';

/**
 * An in-memory `ContainerEngine` for unit tests of dispatch and wiring: containers are records, execs answer
 * from `execAnswer`. It checks nothing that Docker would; integration tests cover the real engine.
 */
export class FakeEngine implements ContainerEngine {
  readonly endpoint = 'fake://engine';
  readonly containers = new Map<string, ContainerSummary>();
  readonly networks = new Map<string, NetworkSummary & { members: Set<string> }>();

  /** How many nodes' containers it holds (helpers such as the network agent are not nodes). */
  get nodeContainers(): number {
    return [...this.containers.values()].filter((c) => c.labels['io.nodes.node-id']).length;
  }
  execAnswer: (options: ExecOptions) => ExecResult = () => ({ exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) });
  private next = 0;

  async ping() {}
  async version() {
    return { version: 'fake', apiVersion: '1.41' };
  }
  async hasImage() {
    return true;
  }
  async pullImage() {}
  async createContainer(o: ContainerCreateOptions): Promise<string> {
    const id = `c${String(++this.next).padStart(63, '0')}`;
    this.containers.set(id, { id, name: o.name, image: o.image, state: 'created', labels: o.labels, createdAt: new Date().toISOString(), networks: [] });
    if (o.network) await this.connectNetwork(id, o.network);
    return id;
  }
  async startContainer(id: string) {
    const c = this.containers.get(id);
    if (c) c.state = 'running';
  }
  async renameContainer(id: string, name: string) {
    const c = this.containers.get(id);
    if (c) c.name = name;
  }
  async removeContainer(id: string) {
    return this.containers.delete(id);
  }
  async inspectContainer(idOrName: string) {
    return this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.name === idOrName);
  }
  async listContainers(labels: Record<string, string>, name?: string) {
    return [...this.containers.values()].filter(
      (c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v) && (name === undefined || new RegExp(name).test(c.name)),
    );
  }
  async copyOut() {
    return undefined;
  }
  async copyIn() {}
  async listNetworks(labels: Record<string, string>) {
    return [...this.networks.values()].filter((n) => Object.entries(labels).every(([k, v]) => n.labels[k] === v));
  }
  async createNetwork(o: NetworkCreateOptions) {
    const id = `net${String(++this.next).padStart(61, '0')}`;
    this.networks.set(id, { id, name: o.name, labels: o.labels, subnets: [o.subnet], internal: o.internal, createdAt: new Date().toISOString(), members: new Set() });
    return id;
  }
  async removeNetwork(id: string) {
    return this.networks.delete(id);
  }
  async networkContainers(id: string) {
    const n = this.networks.get(id);
    return n ? [...n.members] : undefined;
  }
  async connectNetwork(containerId: string, e: NetworkEndpoint) {
    const net = this.networks.get(e.network) ?? [...this.networks.values()].find((n) => n.name === e.network);
    net?.members.add(containerId);
    this.containers.get(containerId)?.networks?.push({ network: net?.name ?? e.network, networkId: net?.id ?? e.network, ipv4Address: e.ipv4Address ?? '', aliases: e.aliases });
  }
  async disconnectNetwork(containerId: string, network: string) {
    const net = this.networks.get(network) ?? [...this.networks.values()].find((n) => n.name === network);
    net?.members.delete(containerId);
    const c = this.containers.get(containerId);
    if (c) c.networks = c.networks?.filter((n) => n.networkId !== net?.id);
  }
  async pauseContainer(id: string) {
    const c = this.containers.get(id);
    if (c) c.state = 'paused';
  }
  async unpauseContainer(id: string) {
    const c = this.containers.get(id);
    if (c) c.state = 'running';
  }
  async exec(_id: string, options: ExecOptions) {
    return this.execAnswer(options);
  }
  async spawnExec(_id: string, options: SpawnOptions): Promise<SpawnResult> {
    const answer = this.execAnswer({ cmd: options.cmd, env: options.env });
    return { execId: 'f'.repeat(64), acknowledged: false, ...answer };
  }
  async inspectExec() {
    return undefined;
  }
  async attachExec(): Promise<AttachedExec> {
    throw new Error('the fake engine does not attach execs');
  }
  async subscribeEvents(): Promise<never> {
    throw new Error('the fake engine has no events');
  }
}
