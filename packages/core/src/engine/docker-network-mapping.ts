import type Docker from 'dockerode';
import type { ContainerCreateOptions, ContainerNetwork, NetworkEndpoint, NetworkSummary, PortBinding } from './container-engine.js';

/** `EndpointSettings` of one network, as `POST /containers/create` and `/networks/{id}/connect` take it. */
export function endpointSettingsOf(endpoint: NetworkEndpoint): Docker.EndpointSettings {
  return {
    Aliases: endpoint.aliases,
    ...(endpoint.ipv4Address ? { IPAMConfig: { IPv4Address: endpoint.ipv4Address } } : {}),
  };
}

/**
 * The parts of a create request that place the container on the network and publish its ports:
 * `HostConfig.NetworkMode`, `HostConfig.PortBindings`, `ExposedPorts` and `NetworkingConfig`. Engine API 1.41
 * takes a single network at create time; others are connected before the start.
 */
export function networkingOf(options: ContainerCreateOptions): {
  hostConfig: Partial<Docker.HostConfig>;
  exposedPorts?: Record<string, object>;
  networkingConfig?: Docker.ContainerCreateOptions['NetworkingConfig'];
} {
  const hostConfig: Partial<Docker.HostConfig> = {};
  let exposedPorts: Record<string, object> | undefined;
  if (options.ports && options.ports.length > 0) {
    exposedPorts = {};
    const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
    for (const p of options.ports) {
      const key = `${p.containerPort}/${p.protocol}`;
      exposedPorts[key] = {};
      (bindings[key] ??= []).push({ HostIp: p.hostIp, HostPort: p.hostPort === 0 ? '' : String(p.hostPort) });
    }
    hostConfig.PortBindings = bindings;
  }
  if (!options.network) return { hostConfig, exposedPorts };
  hostConfig.NetworkMode = options.network.network;
  return {
    hostConfig,
    exposedPorts,
    networkingConfig: { EndpointsConfig: { [options.network.network]: endpointSettingsOf(options.network) } },
  };
}

/** A container's networks from inspect's or the listing's `NetworkSettings.Networks`. */
export function networksOf(networks: Record<string, Docker.NetworkInfo | Docker.EndpointSettings> | undefined): ContainerNetwork[] {
  return Object.entries(networks ?? {}).map(([network, e]) => {
    const settings = e as Docker.EndpointSettings;
    return {
      network,
      networkId: settings.NetworkID ?? '',
      ipv4Address: settings.IPAddress ?? '',
      aliases: settings.Aliases ?? [],
      configuredIpv4Address: settings.IPAMConfig?.IPv4Address || undefined,
    };
  });
}

/** Published ports from inspect's `NetworkSettings.Ports` (`{"8080/tcp": [{HostIp, HostPort}]}`). */
export function portsOf(ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | undefined): PortBinding[] {
  const out: PortBinding[] = [];
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const [port, protocol] = key.split('/');
    for (const b of bindings ?? []) {
      out.push({ containerPort: Number(port), protocol: protocol === 'udp' ? 'udp' : 'tcp', hostIp: b.HostIp, hostPort: Number(b.HostPort) });
    }
  }
  return out;
}

/** A network from `GET /networks`. */
export function toNetworkSummary(n: Docker.NetworkInspectInfo): NetworkSummary {
  return {
    id: n.Id,
    name: n.Name,
    labels: n.Labels ?? {},
    subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => typeof s === 'string' && s.includes('.')),
    internal: n.Internal === true,
    createdAt: n.Created ?? '',
  };
}
