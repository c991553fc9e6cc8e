import { Mutex } from 'async-mutex';

/**
 * One lock per node id, so that reset, remove and process starts on one node run one at a time in this
 * manager. Locks of idle nodes are dropped, so the map holds only nodes with an operation under way.
 */
export class NodeLocks {
  private readonly locks = new Map<string, { mutex: Mutex; users: number }>();

  /** Runs `fn` while holding the node's lock; calls on the same node queue in arrival order. */
  async run<T>(nodeId: string, fn: () => Promise<T>): Promise<T> {
    let entry = this.locks.get(nodeId);
    if (!entry) {
      entry = { mutex: new Mutex(), users: 0 };
      this.locks.set(nodeId, entry);
    }
    entry.users++;
    try {
      return await entry.mutex.runExclusive(fn);
    } finally {
      entry.users--;
      if (entry.users === 0) this.locks.delete(nodeId);
    }
  }
}
