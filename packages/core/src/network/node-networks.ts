import type { ContainerSummary } from '../engine/container-engine.js';
import { LABELS } from '../node/labels.js';
import type { NodeNetwork } from '../schemas/network.js';
import { aliasesOf, networkNameOf, segmentsOf } from './network-names.js';

/**
 * A node's networks as `NodeInfo` shows them: for each segment of its spec, the Docker network, the address and
 * the aliases the engine reports (only inspect gives them: `withAliases` is false for a listing's containers).
 */
export function nodeNetworksOf(
  container: ContainerSummary,
  networks: string[] | undefined,
  withAliases: boolean,
  identity: { nodeId: string; name?: string },
): NodeNetwork[] {
  const namespace = container.labels[LABELS.namespace] ?? '';
  return segmentsOf(networks).flatMap((segment) => {
    const dockerNetwork = networkNameOf(namespace, segment);
    const n = container.networks?.find((x) => x.network === dockerNetwork);
    if (!n) return [];
    if (!withAliases) return [{ network: segment, dockerNetwork, ipAddress: n.ipv4Address }];
    // Docker adds the container's short id to the aliases it reports: show the node's own.
    const own = new Set(aliasesOf(identity.nodeId, identity.name));
    return [{ network: segment, dockerNetwork, ipAddress: n.ipv4Address, aliases: n.aliases.filter((a) => own.has(a)) }];
  });
}
