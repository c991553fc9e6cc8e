import type { NodesConfig } from '../config.js';
import type { ContainerCreateOptions, NetworkEndpoint, PortBinding } from '../engine/container-engine.js';
import type { NodeSpec } from '../schemas/node.js';
import { LABELS, MANAGED_BY, namespaceSelector } from './labels.js';
import { limitsOf } from './node-limits.js';
import { redactSpec } from './node-records.js';

/**
 * The node's main process when its spec gives no command: it idles until stopped, so the node stays up for
 * processes. With `HostConfig.Init` the init forwards SIGTERM to it, and the trap ends it at once.
 */
export const KEEPALIVE_COMMAND = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

/** The argv a node's container runs: the spec's command (a string through `/bin/sh -c`), else the keep-alive. */
export function commandOf(spec: NodeSpec): string[] {
  return spec.command === undefined ? KEEPALIVE_COMMAND : typeof spec.command === 'string' ? ['/bin/sh', '-c', spec.command] : spec.command;
}

/**
 * The labels every container made from `spec` carries, whether made as a node or for the warm pool: the
 * spec's own, the namespace's selector, and the spec (env keys only: values live in the container's `Config.Env`).
 */
export function specLabelsOf(spec: NodeSpec, namespace: string): Record<string, string> {
  return { ...spec.labels, ...namespaceSelector(namespace), [LABELS.managedBy]: MANAGED_BY, [LABELS.spec]: JSON.stringify(redactSpec(spec)) };
}

/**
 * What the engine is asked to create for `spec` (`POST /containers/create`): image, env, command, limits,
 * user; `name`, `hostname`, `labels`, the first network's endpoint and published ports are the caller's.
 * @throws {ValidationError} when the spec asks for more than an operator maximum.
 */
export function containerOptionsOf(
  spec: NodeSpec,
  config: NodesConfig,
  made: { name: string; hostname: string; labels: Record<string, string>; network?: NetworkEndpoint; ports?: PortBinding[] },
): ContainerCreateOptions {
  return {
    network: made.network,
    ports: made.ports,
    name: made.name,
    image: spec.image ?? config.defaultImage,
    env: spec.env ?? {},
    labels: made.labels,
    cmd: commandOf(spec),
    workingDir: spec.workingDir,
    hostname: made.hostname,
    ...limitsOf(spec, config),
    user: spec.user,
  };
}
