import { posix } from 'node:path';
import type { ContainerEngine } from '../engine/container-engine.js';
import type { Logger } from '../logger.js';
import { MARK_LOST_SCRIPT } from './node-scripts.js';

/** What carrying process records across a reset needs. */
export interface CarryDeps {
  engine: ContainerEngine;
  logger: Logger;
  /** where process records live in a node (config `stateDir`) */
  stateDir: string;
}

/**
 * Copies a node's process records from its old container into the new, not yet started one
 * (`GET /containers/{old}/archive` piped into `PUT /containers/{new}/archive`), so that a reset keeps the
 * node's process history. Best effort: a failure is logged, not thrown.
 */
export async function carryProcessRecords(deps: CarryDeps, nodeId: string, oldId: string, newId: string): Promise<void> {
  try {
    const tar = await deps.engine.copyOut(oldId, deps.stateDir);
    if (tar) await deps.engine.copyIn(newId, posix.dirname(deps.stateDir), tar);
  } catch (error) {
    deps.logger.warn({ nodeId, containerId: newId, err: String(error) }, 'could not carry process records across the reset');
  }
}

/** Marks the carried records of processes that had not ended as lost (exit 137), in the started new container. Best effort. */
export async function markProcessesLost(deps: CarryDeps, nodeId: string, containerId: string): Promise<void> {
  try {
    await deps.engine.exec(containerId, { cmd: ['/bin/sh', '-c', MARK_LOST_SCRIPT, 'nodes', deps.stateDir] });
  } catch (error) {
    deps.logger.warn({ nodeId, containerId, err: String(error) }, 'could not mark lost processes after the reset');
  }
}
