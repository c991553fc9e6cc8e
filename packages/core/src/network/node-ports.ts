import type { ContainerSummary, PortBinding } from '../engine/container-engine.js';
import type { NodePort, PortSpec } from '../schemas/ports.js';

const keyOf = (p: { containerPort: number; protocol: string }) => `${p.containerPort}/${p.protocol}`;

/** Host ports a node's container was bound to, by `<port>/<protocol>`: what a reset binds again. */
export type HostPorts = Record<string, number>;

/**
 * The bindings to ask the engine for: each spec port on `hostIp`, at the spec's host port, else at the one the
 * node had before a reset (`kept`), else at one the engine picks (0).
 */
export function bindingsOf(ports: PortSpec[] | undefined, hostIp: string, kept: HostPorts = {}): PortBinding[] {
  return (ports ?? []).map((p) => ({
    containerPort: p.containerPort,
    protocol: p.protocol,
    hostIp,
    hostPort: p.hostPort ?? kept[keyOf(p)] ?? 0,
  }));
}

/** The host ports a container holds, to keep them over a reset. */
export function hostPortsOf(container: ContainerSummary): HostPorts {
  return Object.fromEntries((container.ports ?? []).filter((p) => p.hostPort > 0).map((p) => [keyOf(p), p.hostPort]));
}

/**
 * A node's published ports as `NodeInfo` shows them: each port of its spec with the host address and port the
 * engine bound (IPv4 bindings only; 0 while the node does not run).
 */
export function nodePortsOf(container: ContainerSummary, ports: PortSpec[] | undefined): NodePort[] {
  return (ports ?? []).map((p) => {
    const bound = (container.ports ?? []).find((b) => keyOf(b) === keyOf(p) && !b.hostIp.includes(':'));
    return { containerPort: p.containerPort, protocol: p.protocol, hostIp: bound?.hostIp ?? '', hostPort: bound?.hostPort ?? 0 };
  });
}
