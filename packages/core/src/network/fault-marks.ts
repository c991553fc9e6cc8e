import type { ContainerEngine, ContainerSummary } from '../engine/container-engine.js';
import { ConflictError } from '../errors.js';
import { LABELS, namespaceSelector } from '../node/labels.js';
import { RESERVED_LABEL_PREFIX } from '../schemas/node.js';

/**
 * Fault marks: which nodes may hold network faults (partitions, link faults), so that only those pay for reading
 * them. A node's faults live in its container's network namespace, and reading them takes the namespace's agent
 * two execs (3-6 s each under a heavy load): too dear for every reset and every `get_node` of nodes that never had
 * one. A node gets its mark before its first fault is set, and keeps it until it is removed: a container named
 * `nodes-<ns>.F.<node id>`, created and never started (no process, no network, a few KiB on the engine), labelled
 * `io.nodes.role=faults` and `io.nodes.faults-of=<node id>`. Its name holds the node id, so the lookup that finds a
 * node's containers (`node/node-lookup.ts`) finds its mark with no extra call; the engine's record, so a restarted
 * manager (or another one) sees it. Nodes faulted by a manager older than the marks have none: their faults are
 * then neither shown nor carried over a reset until a fault is set on them again.
 */
export const FAULTS_ROLE = 'faults';

/** The name of node `nodeId`'s fault mark: `nodes-<ns>.F.<node id>`. */
export function faultMarkNameOf(namespace: string, nodeId: string): string {
  return `nodes-${namespace}.F.${nodeId}`;
}

/** Whether `container` is a fault mark; of node `nodeId` when it is given. */
export function isFaultMark(container: ContainerSummary, nodeId?: string): boolean {
  return container.labels[LABELS.role] === FAULTS_ROLE && (nodeId === undefined || container.labels[LABELS.faultsOf] === nodeId);
}

/**
 * Marks a node as one that may hold faults (idempotent: a mark already there is fine). `image` is one the engine
 * has (the node's own): a container cannot be created without one, and this one is never started. `labels`: the
 * node's own (its spec's), which the mark carries too, so that whatever selects the node's containers by them
 * (a test run's sweep) finds its mark.
 * Mirrors `POST /containers/create`.
 * @throws {EngineUnavailableError} when the engine does not answer.
 */
export async function markFaulted(engine: ContainerEngine, namespace: string, nodeId: string, image: string, labels: Record<string, string> = {}): Promise<void> {
  const own = Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith(RESERVED_LABEL_PREFIX)));
  try {
    await engine.createContainer({
      name: faultMarkNameOf(namespace, nodeId),
      image,
      env: {},
      labels: { ...own, ...namespaceSelector(namespace), [LABELS.role]: FAULTS_ROLE, [LABELS.faultsOf]: nodeId },
      cmd: ['true'],
    });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}
