import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inject, injectable } from 'tsyringe';
import type { NodesConfig } from '../config.js';
import type { ContainerEngine, ExecResult } from '../engine/container-engine.js';
import { ConflictError, EngineError, ImageUnavailableError, NodeError } from '../errors.js';
import { ImageService } from '../image/image-service.js';
import type { Logger } from '../logger.js';
import { LABELS, MANAGED_BY, namespaceSelector } from '../node/labels.js';
import { NodeLocks } from '../node/node-locks.js';
import { TOKENS } from '../tokens.js';

const SCRIPTS = new URL('../../src/network/scripts/', import.meta.url);
/** The agent's scripts, sent whole with every exec (nothing is cached in the agent). */
export const AGENT_SCRIPTS = {
  partition: readFileSync(new URL('partition.sh', SCRIPTS), 'utf8'),
  hostGuard: readFileSync(new URL('host-guard.sh', SCRIPTS), 'utf8'),
  link: readFileSync(new URL('link.sh', SCRIPTS), 'utf8'),
  delayer: readFileSync(new URL('delayer.pl', SCRIPTS), 'utf8'),
} as const;

/** The agent's main process: idles until stopped (the init forwards SIGTERM). */
const AGENT_COMMAND = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];
/** How long an agent being made by another manager is waited for (ms), and how young such an agent is. */
const AGENT_START_GRACE_MS = 30_000;
/** `NET_ADMIN` for iptables and tc, `SYS_ADMIN` and `SYS_PTRACE` for `nsenter` into nodes' network namespaces. */
const AGENT_CAPS = ['NET_ADMIN', 'SYS_ADMIN', 'SYS_PTRACE'];

/** The agent's container name: one per namespace, named apart from nodes (`nodes-<ns>.N.<name>`). */
export function agentNameOf(namespace: string): string {
  return `nodes-${namespace}.agent-${createHash('sha256').update(namespace).digest('hex').slice(0, 6)}`;
}

/**
 * The namespace's network agent: ONE long-lived container from `toolsImage` sharing the engine host's network and
 * pid namespaces, with `NET_ADMIN`, `SYS_ADMIN` and `SYS_PTRACE`. It does what the engine's API cannot: iptables
 * and tc inside a node's network namespace (`nsenter --net=/proc/<pid>/ns/net`), so node images need no tools,
 * and the host-side guard rules of the namespace's bridges. Each operation is one `exec` in it (tens of ms);
 * nothing runs in it on a node's create. It holds no state: rules live in the nodes' and the host's network
 * namespaces, so it can be removed (by `pruneNodes` once the namespace has no nodes) and made again at will.
 */
@injectable()
export class NetworkAgent {
  private known: string | undefined;

  constructor(
    @inject(TOKENS.ContainerEngine) private readonly engine: ContainerEngine,
    @inject(TOKENS.Config) private readonly config: NodesConfig,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(ImageService) private readonly images: ImageService,
    @inject(NodeLocks) private readonly locks: NodeLocks,
  ) {}

  private get selector(): Record<string, string> {
    return { ...namespaceSelector(this.config.namespace), [LABELS.role]: 'agent' };
  }

  /** The running agent's container id, if there is one (`GET /containers/json` by label); never makes one. */
  async find(): Promise<string | undefined> {
    const [running] = (await this.engine.listContainers(this.selector)).filter((c) => c.state === 'running');
    return running?.id;
  }

  /**
   * The agent's container id, making and starting it when the namespace has none running (pulls `toolsImage`
   * when missing, as the pull policy says).
   * @throws {ImageUnavailableError} when the tools image is missing and cannot be pulled.
   */
  async ensure(): Promise<string> {
    if (this.known) return this.known;
    return this.locks.run('agent', async () => {
      const found = await this.find();
      if (found) return (this.known = found);
      // Another manager of the namespace may be starting one right now: wait for it rather than race it.
      const young = (await this.engine.listContainers(this.selector)).some((c) => Date.now() - Date.parse(c.createdAt) < AGENT_START_GRACE_MS);
      if (young) return (this.known = await this.awaitRunning());
      try {
        await this.images.ensure(this.config.toolsImage, true);
      } catch (error) {
        if (!(error instanceof ImageUnavailableError)) throw error;
        throw new ImageUnavailableError(
          this.config.toolsImage,
          `the namespace's network agent needs the tools image "${this.config.toolsImage}" (it guards the host and makes network faults): build it with scripts/ensure-image --lab or set NODES_TOOLS_IMAGE; ${error.message}`,
          { cause: error },
        );
      }
      const name = agentNameOf(this.config.namespace);
      // What is left is older and not running (stopped, or a crashed start): replace it.
      for (const stale of await this.engine.listContainers(this.selector)) await this.engine.removeContainer(stale.id);
      let id: string;
      try {
        id = await this.engine.createContainer({
          name,
          image: this.config.toolsImage,
          env: {},
          labels: { ...this.config.networkLabels, ...this.selector, [LABELS.managedBy]: MANAGED_BY },
          cmd: AGENT_COMMAND,
          hostHelper: { capAdd: AGENT_CAPS },
        });
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        // Another manager made it in between: use it once it runs.
        return (this.known = await this.awaitRunning());
      }
      await this.engine.startContainer(id);
      this.logger.info({ containerId: id, image: this.config.toolsImage }, 'network agent started');
      return (this.known = id);
    });
  }

  /** Waits up to `AGENT_START_GRACE_MS` for another manager's agent to run. @throws {EngineError} when none does. */
  private async awaitRunning(): Promise<string> {
    const deadline = Date.now() + AGENT_START_GRACE_MS;
    for (;;) {
      const id = await this.find();
      if (id) return id;
      if (Date.now() > deadline) throw new EngineError(`the network agent of namespace "${this.config.namespace}" did not start within ${AGENT_START_GRACE_MS} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Runs one of the agent's scripts (`AGENT_SCRIPTS`) with `args`; a vanished agent is made again once.
   * @throws {EngineError} when the script fails, with its stderr.
   */
  async run(script: Exclude<keyof typeof AGENT_SCRIPTS, 'delayer'>, args: string[], what: string): Promise<ExecResult> {
    for (let attempt = 0; ; attempt++) {
      const id = await this.ensure();
      let result: ExecResult;
      try {
        result = await this.engine.exec(id, {
          cmd: ['/bin/sh', '-c', AGENT_SCRIPTS[script], 'nodes-agent', ...args],
          env: script === 'link' ? { DELAYER: AGENT_SCRIPTS.delayer } : undefined,
        });
      } catch (error) {
        this.known = undefined;
        if (error instanceof NodeError && attempt === 0) continue;
        throw error;
      }
      if (result.exitCode !== 0) {
        throw new EngineError(`${what} failed in the network agent (exit ${result.exitCode}): ${result.stderr.toString('utf8').trim().slice(0, 300)}`);
      }
      return result;
    }
  }

  /** Removes the agent (`DELETE /containers/{id}?force=true`); returns the ids removed. */
  async remove(): Promise<string[]> {
    this.known = undefined;
    const removed: string[] = [];
    for (const c of await this.engine.listContainers(this.selector)) if (await this.engine.removeContainer(c.id)) removed.push(c.id);
    return removed;
  }
}
