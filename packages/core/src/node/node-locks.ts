import { Semaphore } from 'async-mutex';

/** A weight larger than any number of concurrent shared holders: taking it all makes a holder exclusive. */
const EXCLUSIVE = 1 << 20;

/**
 * One shared/exclusive lock per key (a node id, or a container name), so that in this manager a reset, remove
 * or prune of a node never interleaves with another operation on it, while process starts on one node (which
 * only need the node not to be replaced under them) run side by side. Locks of idle keys are dropped, so the map
 * holds only keys with an operation under way.
 */
export class NodeLocks {
  private readonly locks = new Map<string, { semaphore: Semaphore; users: number }>();

  private async hold<T>(key: string, weight: number, fn: () => Promise<T>): Promise<T> {
    let entry = this.locks.get(key);
    if (!entry) {
      entry = { semaphore: new Semaphore(EXCLUSIVE), users: 0 };
      this.locks.set(key, entry);
    }
    entry.users++;
    try {
      return await entry.semaphore.runExclusive(fn, weight);
    } finally {
      entry.users--;
      if (entry.users === 0) this.locks.delete(key);
    }
  }

  /** Runs `fn` holding the key's lock alone; such calls queue in arrival order. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.hold(key, EXCLUSIVE, fn);
  }

  /** Runs `fn` holding the key's lock together with other shared holders, never with an exclusive one. */
  runShared<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.hold(key, 1, fn);
  }
}
