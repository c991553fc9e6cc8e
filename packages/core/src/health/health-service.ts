import { inject, injectable } from 'tsyringe';
import type { NodesConfig } from '../config.js';
import type { ContainerEngine, EngineVersion } from '../engine/container-engine.js';
import { EngineUnavailableError, NodeError } from '../errors.js';
import type { Health, HealthReason } from '../schemas/health.js';
import { NodeService } from '../node/node-service.js';
import { TOKENS } from '../tokens.js';

/** Engine and node health. */
@injectable()
export class HealthService {
  /** The engine's version, asked once per time the engine answers again: it changes only with a restart. */
  private version: EngineVersion | undefined;

  constructor(
    @inject(TOKENS.ContainerEngine) private readonly engine: ContainerEngine,
    @inject(NodeService) private readonly nodes: NodeService,
    @inject(TOKENS.Config) private readonly config: NodesConfig,
  ) {}

  /**
   * `good` when the engine answers (`GET /_ping`; `GET /version` only the first time, and again after the engine
   * failed: Podman takes 300-600 ms to answer it) and every node of the namespace has a running container;
   * otherwise `bad`, with one reason per problem. An engine that does not answer is reported, not thrown, and
   * the check ends within `healthTimeoutMs` (5000) whatever the engine does (the engine calls it left behind end
   * on their own within `engineTimeoutMs`).
   * @returns schema `HealthSchema`.
   * @throws {Error} only on a bug: engine failures become reasons.
   */
  async check(): Promise<Health> {
    const started = Date.now();
    const reasons: HealthReason[] = [];
    const engine: Health['engine'] = { endpoint: this.engine.endpoint };
    let total = 0;
    let running = 0;
    const timeoutMs = this.config.healthTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new EngineUnavailableError(this.engine.endpoint, `engine at ${this.engine.endpoint} did not answer the health check within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const bounded = <T>(call: Promise<T>): Promise<T> => {
      call.catch(() => undefined); // a call left behind by the deadline fails later: nobody waits for it
      return Promise.race([call, deadline]);
    };
    try {
      await bounded(this.engine.ping());
      this.version ??= await bounded(this.engine.version());
      const { version } = this;
      engine.version = version.version;
      engine.apiVersion = version.apiVersion;
      const nodes = await bounded(this.nodes.list());
      total = nodes.length;
      for (const node of nodes) {
        if (node.state === 'running') {
          running++;
          continue;
        }
        const exit = node.exitCode === undefined ? '' : `, exit code ${node.exitCode}`;
        // Only inspect tells whether the out-of-memory killer ended it; few nodes are down at once.
        const oomKilled = (await bounded(this.engine.inspectContainer(node.containerId)))?.oomKilled === true;
        reasons.push({
          kind: 'node',
          nodeId: node.nodeId,
          state: node.state,
          exitCode: node.exitCode,
          ...(oomKilled ? { oomKilled } : {}),
          message: `node "${node.nodeId}" is not running (state: ${node.state}${exit}${oomKilled ? ', killed for lack of memory' : ''})`,
        });
      }
    } catch (error) {
      if (!(error instanceof NodeError)) throw error;
      if (error.code === 'engine_unavailable') this.version = undefined;
      reasons.push({ kind: 'engine', code: error.code, message: error.message });
    } finally {
      clearTimeout(timer);
    }
    return {
      health: reasons.length === 0 ? 'good' : 'bad',
      reasons,
      engine,
      nodes: { total, running },
      checkedAt: new Date().toISOString(),
      durationMs: Date.now() - started,
    };
  }
}
