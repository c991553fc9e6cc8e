import type { ContainerEngine, EngineEvent, EventSubscription } from '../engine/container-engine.js';
import type { Logger } from '../logger.js';

/** How many exec exit codes are remembered from events. */
const REMEMBERED_EXECS = 4096;

/** What a watcher waits for: its supervisor exec to end, or its node's container to die or go. */
interface Watch {
  execId?: string;
  containerId: string;
  wake(): void;
}

/**
 * One shared subscription to the engine's events per manager (`GET /events`, `exec_die` (Podman: `exec_died`),
 * `die`, `destroy`, `oom`), open only while someone waits: a process's supervisor is the main process of its exec, so the
 * engine's `exec_die` says when the process ended, and a node's `die`/`destroy` when all its processes did.
 * Waiters and followers learn of an end from here, without reading the node on a timer.
 */
export class ExecTracker {
  private subscription?: Promise<EventSubscription | undefined>;
  private readonly exitCodes = new Map<string, number>();
  private readonly oomContainers = new Set<string>();
  private readonly watches = new Set<Watch>();
  private holders = 0;

  constructor(
    private readonly engine: ContainerEngine,
    private readonly logger: Logger,
  ) {}

  /** The exit code of an exec that ended while subscribed, if seen. */
  exitCodeOf(execId: string): number | undefined {
    return this.exitCodes.get(execId);
  }

  /** Whether the engine reported an out-of-memory kill in this container while subscribed. */
  sawOom(containerId: string): boolean {
    return this.oomContainers.has(containerId);
  }

  /**
   * Holds the subscription (subscribing once per manager if nobody has) until `release` is called; `live` says
   * whether events are flowing (while false, callers read on a timer instead). Hold it before reading what
   * you will wait on, so that no event falls between the read and the watch.
   */
  async acquire(): Promise<{ live: boolean; release(): void }> {
    this.holders++;
    this.subscription ??= this.engine
      .subscribeEvents(['exec_die', 'exec_died', 'die', 'destroy', 'oom'], (e) => this.onEvent(e), (error) => this.onLost(error))
      .catch((error: unknown) => {
        this.logger.debug({ err: String(error) }, 'could not subscribe to engine events');
        this.subscription = undefined;
        return undefined;
      });
    const live = (await this.subscription) !== undefined;
    let released = false;
    return {
      live,
      release: () => {
        if (released) return;
        released = true;
        this.holders--;
        this.closeWhenIdle();
      },
    };
  }

  /**
   * Calls `wake` once when the exec ends, the container dies or goes, or the event stream is lost; returns a
   * function that stops watching. Hold the subscription (`acquire`) meanwhile.
   */
  watch(containerId: string, execId: string | undefined, wake: () => void): () => void {
    let done = false;
    const w: Watch = {
      execId,
      containerId,
      wake: () => {
        if (done) return;
        done = true;
        this.watches.delete(w);
        wake();
      },
    };
    this.watches.add(w);
    if (execId && this.exitCodes.has(execId)) queueMicrotask(w.wake);
    return () => {
      done = true;
      this.watches.delete(w);
    };
  }

  private onEvent(e: EngineEvent): void {
    if (e.action === 'exec_die' && e.attributes.execID) {
      const code = Number(e.attributes.exitCode);
      this.exitCodes.set(e.attributes.execID, Number.isInteger(code) ? code : 137);
      if (this.exitCodes.size > REMEMBERED_EXECS) this.exitCodes.delete(this.exitCodes.keys().next().value!);
    }
    if (e.action === 'oom') this.oomContainers.add(e.id);
    // Podman says `exec_died` and names no exec: ask the engine about each watched exec of that container (an
    // inspect, not an exec: waking the watchers blindly would make them read, and each read's own exec_died would
    // wake them again).
    if (e.action === 'exec_died' && !e.attributes.execID) {
      for (const w of [...this.watches]) {
        if (w.containerId !== e.id) continue;
        if (!w.execId) {
          w.wake();
          continue;
        }
        void this.engine.inspectExec(w.execId).then(
          (info) => {
            if (!info?.running) w.wake();
          },
          () => w.wake(),
        );
      }
      return;
    }
    for (const w of [...this.watches]) {
      if ((e.action === 'exec_die' && w.execId && w.execId === e.attributes.execID) || ((e.action === 'die' || e.action === 'destroy') && w.containerId === e.id)) {
        w.wake();
      }
    }
  }

  private onLost(error: Error): void {
    this.logger.debug({ err: String(error) }, 'engine event stream lost');
    this.subscription = undefined;
    for (const w of [...this.watches]) w.wake();
  }

  private closeWhenIdle(): void {
    if (this.holders > 0 || !this.subscription) return;
    const sub = this.subscription;
    this.subscription = undefined;
    void sub.then((s) => s?.close());
  }
}
