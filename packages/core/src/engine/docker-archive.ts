import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { NodeError } from '../errors.js';
import type { EngineCall } from './docker-exec.js';
import { statusOf } from './docker-errors.js';

/** Files in and out of containers as tar archives: `GET` and `PUT /containers/{id}/archive`. */

export async function copyOut(docker: Docker, call: EngineCall, containerId: string, path: string): Promise<NodeJS.ReadableStream | undefined> {
  try {
    return await call(`copy ${path} out of container ${containerId.slice(0, 12)}`, (abortSignal) =>
      docker.getContainer(containerId).getArchive({ path, abortSignal } as {}),
    );
  } catch (error) {
    if (error instanceof NodeError && statusOf(error.cause) === 404) return undefined;
    throw error;
  }
}

export async function copyIn(
  docker: Docker,
  call: EngineCall,
  engineTimeoutMs: number,
  containerId: string,
  dir: string,
  tar: NodeJS.ReadableStream,
  options: { asContainerUser?: boolean } = {},
): Promise<void> {
  await call(
    `copy into ${dir} of container ${containerId.slice(0, 12)}`,
    (abortSignal) =>
      new Promise<void>((resolve, reject) => {
        // A tar stream that fails midway ends the upload: the engine then sees a cut request and keeps nothing.
        (tar as Readable).on('error', reject);
        docker.getContainer(containerId).putArchive(tar, { path: dir, ...(options.asContainerUser ? { copyUIDGID: '1' } : {}), abortSignal } as {}).then(() => resolve(), reject);
      }),
    // Large files take longer than one request's usual bound: allow a generous floor on slow engines.
    Math.max(engineTimeoutMs, 10 * 60_000),
  );
}
