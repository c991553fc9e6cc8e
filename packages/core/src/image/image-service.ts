import { inject, injectable } from 'tsyringe';
import type { NodesConfig } from '../config.js';
import type { ContainerEngine } from '../engine/container-engine.js';
import { ImageUnavailableError, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { TOKENS } from '../tokens.js';
import { imageAllowed, repositoryOf } from './image-reference.js';

/** How long an image seen on the engine is taken to still be there without asking again (ms). */
export const IMAGE_PRESENT_TTL_MS = 30_000;

/**
 * Makes sure an image is on the engine before a container is created from it. An image once seen is not asked
 * about again for `IMAGE_PRESENT_TTL_MS` (one engine call less per create); a create that meets it gone calls
 * `forget` and `ensure` again.
 */
@injectable()
export class ImageService {
  constructor(
    @inject(TOKENS.ContainerEngine) private readonly engine: ContainerEngine,
    @inject(TOKENS.Config) private readonly config: NodesConfig,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  private readonly present = new Map<string, number>();

  /** Drops what is known of `image`, so the next `ensure` asks the engine. */
  forget(image: string): void {
    this.present.delete(image);
  }

  /**
   * Refuses an image outside the config's `imageAllowlist` (when one is set), without asking the engine
   * anything: an image reference names a registry host the engine (root, on the host's network) would connect to.
   * @throws {ValidationError} when the image's repository is under no allowlist entry.
   */
  assertAllowed(image: string): void {
    const allowlist = this.config.imageAllowlist;
    if (allowlist === undefined || imageAllowed(image, allowlist)) return;
    const problem = `image: "${repositoryOf(image)}" is not under the operator's image allowlist (imageAllowlist, NODES_IMAGE_ALLOWLIST: ${allowlist.join(', ')})`;
    throw new ValidationError(`invalid node spec: ${problem}`, [problem]);
  }

  /**
   * Returns when `image` is on the engine. A missing image is pulled (`POST /images/create`, as `docker run`
   * does) unless the config's `pullPolicy` is `never`. Checks the allowlist first (`assertAllowed`), except for
   * an image the operator's own config names (`fromOperator`: the network agent's `toolsImage`).
   * @throws {ValidationError} when the image is outside the allowlist.
   * @throws {ImageUnavailableError} when it is missing and cannot be pulled within `pullTimeoutMs`.
   * @throws {EngineUnavailableError} when the engine does not answer.
   */
  async ensure(image: string, fromOperator = false): Promise<void> {
    if (!fromOperator) this.assertAllowed(image);
    if ((this.present.get(image) ?? 0) > Date.now()) return;
    if (await this.engine.hasImage(image)) {
      this.present.set(image, Date.now() + IMAGE_PRESENT_TTL_MS);
      return;
    }
    if (this.config.pullPolicy === 'never') {
      throw new ImageUnavailableError(image, `image "${image}" is not present on the engine and pullPolicy is "never"`);
    }
    const started = Date.now();
    this.logger.info({ image }, 'pulling image');
    await this.engine.pullImage(image, this.config.pullTimeoutMs);
    this.logger.info({ image, durationMs: Date.now() - started }, 'pulled image');
    this.present.set(image, Date.now() + IMAGE_PRESENT_TTL_MS);
  }
}
