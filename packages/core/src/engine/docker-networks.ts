import type Docker from 'dockerode';
import { NodeError } from '../errors.js';
import type { NetworkCreateOptions, NetworkEndpoint, NetworkSummary } from './container-engine.js';
import type { EngineCall } from './docker-exec.js';
import { engineMessage, statusOf } from './docker-errors.js';
import { endpointSettingsOf, toNetworkSummary } from './docker-network-mapping.js';

/** Networks on the Docker Engine API: list, create, remove, inspect, connect, disconnect. */

export async function listNetworks(docker: Docker, call: EngineCall, labels: Record<string, string>): Promise<NetworkSummary[]> {
  const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
  const list = await call('list networks', (abortSignal) =>
    docker.listNetworks({ filters: JSON.stringify(filters), abortSignal } as {}),
  );
  return list.map(toNetworkSummary);
}

export async function createNetwork(docker: Docker, call: EngineCall, options: NetworkCreateOptions): Promise<string> {
  const network = await call(`create network "${options.name}"`, (abortSignal) =>
    docker.createNetwork({
      abortSignal,
      Name: options.name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Internal: options.internal,
      Labels: options.labels,
      IPAM: { Driver: 'default', Config: [{ Subnet: options.subnet }] },
    } as Docker.NetworkCreateOptions),
  );
  return network.id;
}

export async function removeNetwork(docker: Docker, call: EngineCall, id: string): Promise<boolean> {
  try {
    await call(`remove network ${id.slice(0, 12)}`, (abortSignal) => docker.getNetwork(id).remove({ abortSignal } as {}));
    return true;
  } catch (error) {
    if (error instanceof NodeError && statusOf(error.cause) === 404) return false;
    throw error;
  }
}

export async function networkContainers(docker: Docker, call: EngineCall, id: string): Promise<string[] | undefined> {
  try {
    const info = await call(`inspect network ${id.slice(0, 12)}`, (abortSignal) =>
      (docker.getNetwork(id).inspect as (o: object) => Promise<Docker.NetworkInspectInfo>).call(docker.getNetwork(id), { abortSignal }),
    );
    return Object.keys((info as Docker.NetworkInspectInfo).Containers ?? {});
  } catch (error) {
    if (error instanceof NodeError && statusOf(error.cause) === 404) return undefined;
    throw error;
  }
}

export async function connectNetwork(docker: Docker, call: EngineCall, containerId: string, endpoint: NetworkEndpoint): Promise<void> {
  await call(`connect container ${containerId.slice(0, 12)} to network "${endpoint.network}"`, (abortSignal) =>
    docker.getNetwork(endpoint.network).connect({ abortSignal, Container: containerId, EndpointConfig: endpointSettingsOf(endpoint) } as {}),
  );
}

export async function disconnectNetwork(docker: Docker, call: EngineCall, containerId: string, network: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await disconnectOnce(docker, call, containerId, network);
    } catch (error) {
      // Podman 4.3 (netavark 1.4), under concurrent network changes: "aardvark pid not found" while its DNS
      // server restarts. A moment later the same call works.
      if (attempt < 4 && error instanceof NodeError && /aardvark pid not found/i.test(error.message)) {
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        continue;
      }
      throw error;
    }
  }
}

async function disconnectOnce(docker: Docker, call: EngineCall, containerId: string, network: string): Promise<void> {
  try {
    await call(`disconnect container ${containerId.slice(0, 12)} from network "${network}"`, (abortSignal) =>
      docker.getNetwork(network).disconnect({ abortSignal, Container: containerId, Force: true } as {}),
    );
  } catch (error) {
    // 404: no such network or container; "is not connected" (Docker: 403, or 500 in a race; Podman: 500):
    // either way it is not attached.
    const status = error instanceof NodeError ? statusOf(error.cause) : undefined;
    if (status === 404 || (status !== undefined && /not connected/i.test(engineMessage((error as NodeError).cause)))) return;
    throw error;
  }
}
