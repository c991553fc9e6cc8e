import type { NodesOptions } from './config.js';

/** The environment variable of each option, the same names the server reads. */
export const OPTION_ENV = {
  namespace: 'NODES_NAMESPACE',
  defaultImage: 'NODES_DEFAULT_IMAGE',
  dockerHost: 'DOCKER_HOST',
  engineTimeoutMs: 'NODES_ENGINE_TIMEOUT_MS',
  pullPolicy: 'NODES_PULL_POLICY',
  outputCapBytes: 'NODES_OUTPUT_CAP_BYTES',
  idleTtlMs: 'NODES_IDLE_TTL_MS',
  defaultMemoryBytes: 'NODES_DEFAULT_MEMORY_BYTES',
  maxMemoryBytes: 'NODES_MAX_MEMORY_BYTES',
  defaultNanoCpus: 'NODES_DEFAULT_NANO_CPUS',
  maxNanoCpus: 'NODES_MAX_NANO_CPUS',
  defaultPidsLimit: 'NODES_DEFAULT_PIDS_LIMIT',
  maxPidsLimit: 'NODES_MAX_PIDS_LIMIT',
  maxNodes: 'NODES_MAX_NODES',
  networkPool: 'NODES_NETWORK_POOL',
  networkPrefixLength: 'NODES_NETWORK_PREFIX_LENGTH',
  imageAllowlist: 'NODES_IMAGE_ALLOWLIST',
  poolSize: 'NODES_POOL_SIZE',
  healthTimeoutMs: 'NODES_HEALTH_TIMEOUT_MS',
} as const satisfies Partial<Record<keyof NodesOptions, string>>;

const TEXT_OPTIONS = new Set<string>(['namespace', 'defaultImage', 'dockerHost', 'pullPolicy', 'networkPool']);
/** Options given as comma-separated lists. */
const LIST_OPTIONS = new Set<string>(['imageAllowlist']);

/**
 * Options read from the environment (`NODES_NAMESPACE`, `NODES_ENGINE_TIMEOUT_MS`…, see `OPTION_ENV`), numbers
 * converted; empty variables count as unset. `createNodeManager` takes these for every option it is not given,
 * so a script and the server started in the same shell see the same namespace and engine.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): NodesOptions {
  const options: Record<string, string | number | string[]> = {};
  for (const [option, name] of Object.entries(OPTION_ENV)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (LIST_OPTIONS.has(option)) options[option] = value.split(',').map((v) => v.trim()).filter(Boolean);
    else options[option] = TEXT_OPTIONS.has(option) ? value : /^\d+$/.test(value.trim()) ? Number(value) : value;
  }
  return options as NodesOptions;
}

/** `options` over the environment's: an option given (not undefined) wins over its variable. */
export function withEnvDefaults(options: NodesOptions, env: NodeJS.ProcessEnv = process.env): NodesOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...optionsFromEnv(env), ...given };
}
