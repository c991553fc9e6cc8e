import { randomBytes } from 'node:crypto';
import type { NodesConfig } from '../config.js';
import type { ContainerEngine } from '../engine/container-engine.js';
import { ConflictError, NodeError } from '../errors.js';
import type { ImageService } from '../image/image-service.js';
import type { Logger } from '../logger.js';
import type { NetworkService } from '../network/network-service.js';
import { containerOptionsOf, specLabelsOf } from '../node/container-options.js';
import { LABELS, namespaceSelector } from '../node/labels.js';
import type { NodeLocks } from '../node/node-locks.js';
import type { NodeSpec } from '../schemas/node.js';
import { poolNameOf } from './pool-names.js';

/** One pooled container this manager knows of: its id, the name a claim renames it from, and its image. */
export interface Pooled {
  id: string;
  name: string;
  image: string;
  /** off the namespace's networks, for resets only (`.R.`, see `pool-names.ts`) */
  ready?: boolean;
}

/** What making a warm container needs: the `WarmPool`'s collaborators. */
export interface WarmMaking {
  engine: ContainerEngine;
  config: NodesConfig;
  images: ImageService;
  networks: NetworkService;
  locks: NodeLocks;
}

/**
 * Makes one warm container of `spec`: created on the namespace's networks with a node id of its own as
 * hostname and DNS alias, started, and kept under its pooled name. One `ready` for a reset (`.R.`) then leaves
 * the networks. Not before its start: a container that starts without a network pays for its first connect
 * (the engine sets up its DNS resolver then: 100 ms instead of 30 here), which would be the reset's; the price
 * is the interface's name, `eth1` once the reset joins it to the node's network, as Docker numbers a
 * container's interfaces as they come. Mirrors `POST /containers/create`, `/networks/{id}/connect` for extra
 * segments, `/containers/{id}/start` (and `/networks/{id}/disconnect`); removed again when it does not run.
 */
export async function makeWarmContainer(deps: WarmMaking, key: string, spec: NodeSpec, ready = false): Promise<Pooled> {
  const { engine, config, images, networks, locks } = deps;
  const id = `n-${randomBytes(6).toString('hex')}`;
  const name = poolNameOf(config.namespace, id, ready ? 'ready' : 'pooled');
  await images.ensure(spec.image ?? config.defaultImage);
  const endpoints = await networks.endpointsFor(id, undefined, spec.networks);
  const labels = { ...specLabelsOf(spec, config.namespace), [LABELS.pool]: key };
  const containerId = await engine.createContainer(containerOptionsOf(spec, config, { name, hostname: id, labels, network: endpoints[0] }));
  try {
    await networks.attach(containerId, endpoints.slice(1));
    // Shared with creates, never during a reset's move of its addresses (see `NodeService.createAndStart`).
    await locks.runShared('addresses', () => engine.startContainer(containerId));
    const c = await engine.inspectContainer(containerId);
    if (c?.state !== 'running') throw new Error(`warm container exited at once (state: ${c?.state ?? 'removed'})`);
    if (ready) await networks.detach(c);
  } catch (error) {
    await engine.removeContainer(containerId).catch(() => undefined);
    throw error;
  }
  return { id: containerId, name, image: spec.image ?? config.defaultImage, ...(ready ? { ready } : {}) };
}

/**
 * Takes the claim marker of a warm container: a container named `nodes-<ns>.X.<id>` (see `pool-names.ts`),
 * created and never started. The engine reserves a container name atomically, so of all claimers (creates,
 * resets, sweeps, in any manager) exactly one makes it; the others get a conflict and leave this warm container
 * alone. A rename alone cannot give that: the engine looks a rename's container up by its old name before it takes
 * the container's lock, so a claimer's stalled rename could run after the winner's second rename and take the
 * node the winner made. Mirrors `POST /containers/create`.
 * @returns a release that removes the marker (once the claim's last rename is done), or undefined when another
 *   claimer holds it.
 * @throws {EngineUnavailableError} when the engine does not answer.
 */
export async function takeClaimMarker(engine: ContainerEngine, namespace: string, pooled: Pooled): Promise<(() => void) | undefined> {
  const id = pooled.name.slice(pooled.name.lastIndexOf('.') + 1);
  try {
    const markerId = await engine.createContainer({
      name: poolNameOf(namespace, id, 'marker'),
      image: pooled.image,
      env: {},
      labels: { ...namespaceSelector(namespace), [LABELS.role]: 'claim' },
      cmd: ['true'],
    });
    return () => void engine.removeContainer(markerId).catch(() => undefined);
  } catch (error) {
    if (error instanceof ConflictError) return undefined;
    throw error;
  }
}

/** Renames a container addressed by `name` to `to`; false when the engine refuses (someone else got it first). */
export async function claimByRename(engine: ContainerEngine, logger: Logger, name: string, to: string): Promise<boolean> {
  try {
    await engine.renameContainer(name, to);
    return true;
  } catch (error) {
    if (!(error instanceof NodeError) || error.code === 'engine_unavailable') throw error;
    logger.debug({ container: name, err: error.message }, 'warm container taken by someone else');
    return false;
  }
}

/** Removes a warm container; false when it was gone or the engine refused (logged), engine loss thrown. */
export async function removeWarmSafely(engine: ContainerEngine, logger: Logger, containerId: string): Promise<boolean> {
  try {
    return await engine.removeContainer(containerId);
  } catch (error) {
    if (!(error instanceof NodeError) || error.code === 'engine_unavailable') throw error;
    logger.warn({ containerId, err: error.message }, 'could not remove a warm container');
    return false;
  }
}
