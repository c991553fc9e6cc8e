import type Docker from 'dockerode';
import { ImageUnavailableError, NodeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EngineCall } from './docker-exec.js';
import { engineMessage, pullFailureReason, statusOf } from './docker-errors.js';

/** Images on the Docker Engine API: `GET /images/{name}/json`, `POST /images/create` (pull). */

export async function hasImage(docker: Docker, call: EngineCall, ref: string): Promise<boolean> {
  try {
    await call(`inspect image "${ref}"`, (abortSignal) => docker.getImage(ref).inspect({ abortSignal } as {}));
    return true;
  } catch (error) {
    if (error instanceof NodeError && statusOf(error.cause) === 404) return false;
    throw error;
  }
}

export async function pullImage(docker: Docker, call: EngineCall, logger: Logger, ref: string, timeoutMs: number): Promise<void> {
  try {
    await call(
      `pull image "${ref}"`,
      async (abortSignal) => {
        const stream = (await docker.pull(ref, { abortSignal })) as NodeJS.ReadableStream;
        await new Promise<void>((resolve, reject) => {
          // The pull answers 200 and reports failures inside the progress stream.
          docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string }>) => {
            const failed = events?.find((e) => e.error);
            if (err) reject(err);
            else if (failed) reject(new Error(failed.error));
            else resolve();
          });
        });
      },
      timeoutMs,
    );
  } catch (error) {
    if (error instanceof NodeError && error.code === 'engine_unavailable' && !(error.cause && statusOf(error.cause))) {
      // A pull that outlives its deadline is the registry's fault, not the engine's.
      if (/did not answer within/.test(error.message)) {
        throw new ImageUnavailableError(ref, `image "${ref}" could not be pulled within ${timeoutMs} ms`, { cause: error });
      }
      throw error;
    }
    // The engine's message quotes the registry's reply, and the registry is whatever host the reference names:
    // log it for the operator, answer with a reason of ours and the engine's status.
    const detail = error instanceof NodeError && error.cause ? engineMessage(error.cause) : String((error as Error).message);
    const status = error instanceof NodeError ? statusOf(error.cause) : undefined;
    logger.warn({ image: ref, err: detail.slice(0, 2000) }, 'pull failed');
    throw new ImageUnavailableError(
      ref,
      `image "${ref}" is not present on the engine and could not be pulled: ${pullFailureReason(detail)} (engine status ${status ?? 'none: the pull stream reported the failure'})`,
      { cause: error },
    );
  }
}
