import 'reflect-metadata';
import { container as rootInjector, type DependencyContainer } from 'tsyringe';
import { ConfigSchema, type NodesConfig, type NodesOptions } from './config.js';
import { withEnvDefaults } from './config-env.js';
import { createDockerClient, resolveDockerHost } from './engine/docker-client.js';
import { DockerEngine } from './engine/docker-engine.js';
import type { ContainerEngine } from './engine/container-engine.js';
import { instrumentEngine } from './engine/instrumented-engine.js';
import { noMetrics, type MetricsPort } from './metrics.js';
import { HealthService } from './health/health-service.js';
import { ImageService } from './image/image-service.js';
import { silentLogger, type Logger } from './logger.js';
import { FileService } from './files/file-service.js';
import { NetworkAgent } from './network/agent.js';
import { FaultCarrier } from './network/fault-carry.js';
import { FaultService } from './network/fault-service.js';
import { NetworkService } from './network/network-service.js';
import { NodeLocks } from './node/node-locks.js';
import { NodeService } from './node/node-service.js';
import { WarmPool } from './pool/warm-pool.js';
import { ProcessService } from './process/process-service.js';
import { parseInput } from './schemas/parse.js';
import { TOKENS } from './tokens.js';
import { NodeManager } from './node-manager.js';

/**
 * What the composition root takes besides the config: a logger, a metrics port (engine calls are then measured
 * by an `instrumentEngine` decorator; a pool reports its size to it), and (for tests) an engine instead of Docker.
 */
export interface CompositionOverrides {
  logger?: Logger;
  engine?: ContainerEngine;
  metrics?: MetricsPort;
}

/** The config with the engine endpoint resolved: `dockerHost`, else `DOCKER_HOST`, else the default socket. */
export type ResolvedConfig = NodesConfig & { endpoint: string };

/**
 * Builds a fresh child injector with config, logger, dockerode client, `ContainerEngine -> DockerEngine` and the
 * services: the one place that registers anything. Each call is independent; nothing global is touched.
 * @throws {ValidationError} when `options` fail `ConfigSchema`.
 */
export function createCoreInjector(options: NodesOptions = {}, overrides: CompositionOverrides = {}): DependencyContainer {
  const parsed = parseInput(ConfigSchema, withEnvDefaults(options), 'node manager options (arguments, else NODES_* environment)');
  const config: ResolvedConfig = { ...parsed, endpoint: resolveDockerHost(parsed.dockerHost) };
  const injector = rootInjector.createChildContainer();
  injector.registerInstance(TOKENS.Config, config);
  injector.registerInstance(TOKENS.Logger, overrides.logger ?? silentLogger);
  injector.registerInstance(NodeLocks, new NodeLocks());
  injector.registerInstance(TOKENS.Metrics, overrides.metrics ?? noMetrics);
  let engine = overrides.engine;
  if (!engine) {
    injector.registerInstance(TOKENS.DockerClient, createDockerClient(config.endpoint));
    engine = injector.resolve(DockerEngine);
  }
  injector.registerInstance(TOKENS.ContainerEngine, overrides.metrics ? instrumentEngine(engine, overrides.metrics) : engine);
  for (const service of [ImageService, NetworkAgent, FaultCarrier, NetworkService, WarmPool, NodeService, ProcessService, FileService, FaultService, HealthService] as const) {
    injector.registerInstance(service as never, injector.resolve(service as never));
  }
  return injector;
}

/**
 * Makes a node manager: the entry point of `@nodes/core`.
 * @param options schema `ConfigSchema`; an option not given is read from the environment as the server reads it
 *   (`NODES_NAMESPACE`, `NODES_DEFAULT_IMAGE`, `DOCKER_HOST`, `NODES_ENGINE_TIMEOUT_MS`…; see `OPTION_ENV`),
 *   else it takes its default.
 * @throws {ValidationError} when `options` are invalid.
 */
export function createNodeManager(options: NodesOptions = {}, overrides: CompositionOverrides = {}): NodeManager {
  const injector = createCoreInjector(options, overrides);
  return new NodeManager(
    injector.resolve<ResolvedConfig>(TOKENS.Config),
    injector.resolve(NodeService),
    injector.resolve(ProcessService),
    injector.resolve(HealthService),
    injector.resolve(FileService),
    injector.resolve(FaultService),
    injector.resolve(WarmPool),
  );
}
