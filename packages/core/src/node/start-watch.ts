import type { ContainerEngine, EventSubscription } from '../engine/container-engine.js';
import type { Logger } from '../logger.js';

/**
 * How long a node whose spec gives its own command is watched after its start for the engine's `die` event
 * (ms): a main process that cannot run (not found, not executable) or exits at once dies within it, and the
 * watch ends as soon as the event comes. The built-in keep-alive is not watched: it never exits by itself, so the
 * inspect that builds the create's answer is its only check (it catches an image without `/bin/sh`).
 */
export const START_WATCH_MS = 250;

/** One container watched from before its start: `died(ms)` resolves true when it died within `ms` of the call. */
export interface StartWatchHandle {
  died(windowMs: number): Promise<boolean>;
  release(): void;
}

/**
 * One subscription to the engine's `die` events (`GET /events?filters={"event":["die"]}`), open only while a
 * create is watching a container and shared by all concurrent creates. Subscribing costs one request, made in
 * parallel with the container's create; without events (an engine that refuses them) `died` falls back to
 * inspecting the container at the end of the window.
 */
export class StartWatch {
  private subscription?: Promise<EventSubscription | undefined>;
  private readonly watched = new Map<string, () => void>();
  private readonly dead = new Set<string>();
  private holders = 0;

  constructor(
    private readonly engine: ContainerEngine,
    private readonly logger: Logger,
  ) {}

  /** Opens (or shares) the subscription; call before the container's create, then `watch` before its start. */
  hold(): { watch(containerId: string): StartWatchHandle; release(): void } {
    this.holders++;
    this.subscription ??= this.engine
      .subscribeEvents(
        ['die'],
        (e) => {
          this.dead.add(e.id);
          this.watched.get(e.id)?.();
        },
        () => {
          this.subscription = undefined;
          for (const wake of this.watched.values()) wake();
        },
      )
      .catch((error: unknown) => {
        this.logger.debug({ err: String(error) }, 'could not subscribe to die events');
        this.subscription = undefined;
        return undefined;
      });
    const sub = this.subscription;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--this.holders === 0 && this.subscription) {
        const open = this.subscription;
        this.subscription = undefined;
        this.dead.clear();
        void open.then((s) => s?.close());
      }
    };
    return {
      release,
      watch: (containerId) => ({
        release: () => this.watched.delete(containerId),
        died: async (windowMs) => {
          const live = (await sub) !== undefined;
          if (!live) {
            await new Promise((r) => setTimeout(r, windowMs));
            const c = await this.engine.inspectContainer(containerId);
            return !c || (c.state !== 'running' && c.state !== 'created');
          }
          if (this.dead.has(containerId)) return true;
          return new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => {
              this.watched.delete(containerId);
              resolve(false);
            }, windowMs);
            this.watched.set(containerId, () => {
              clearTimeout(timer);
              this.watched.delete(containerId);
              resolve(true);
            });
          });
        },
      }),
    };
  }
}
