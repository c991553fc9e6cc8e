import { inject, injectable } from 'tsyringe';
import type { ContainerEngine } from '../engine/container-engine.js';
import { NodeError } from '../errors.js';
import type { Health, HealthReason } from '../schemas/health.js';
import { NodeService } from '../node/node-service.js';
import { TOKENS } from '../tokens.js';

/** Engine and node health. */
@injectable()
export class HealthService {
  constructor(
    @inject(TOKENS.ContainerEngine) private readonly engine: ContainerEngine,
    @inject(NodeService) private readonly nodes: NodeService,
  ) {}

  /**
   * `good` when the engine answers (`GET /version`) and every node of the namespace has a running container;
   * otherwise `bad`, with one reason per problem. An engine that does not answer is reported, not thrown.
   * @returns schema `HealthSchema`.
   * @throws {Error} only on a bug: engine failures become reasons.
   */
  async check(): Promise<Health> {
    const started = Date.now();
    const reasons: HealthReason[] = [];
    const engine: Health['engine'] = { endpoint: this.engine.endpoint };
    let total = 0;
    let running = 0;
    try {
      const version = await this.engine.version();
      engine.version = version.version;
      engine.apiVersion = version.apiVersion;
      const nodes = await this.nodes.list();
      total = nodes.length;
      for (const node of nodes) {
        if (node.state === 'running') {
          running++;
          continue;
        }
        const exit = node.exitCode === undefined ? '' : `, exit code ${node.exitCode}`;
        reasons.push({
          kind: 'node',
          nodeId: node.nodeId,
          state: node.state,
          exitCode: node.exitCode,
          message: `node "${node.nodeId}" is not running (state: ${node.state}${exit})`,
        });
      }
    } catch (error) {
      if (!(error instanceof NodeError)) throw error;
      reasons.push({ kind: 'engine', code: error.code, message: error.message });
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
