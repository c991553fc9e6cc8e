import type { ProcessRecord } from '../schemas/process.js';

interface Batch {
  ids: Set<string>;
  done: Promise<Map<string, ProcessRecord>>;
}

/**
 * Merges the record reads of one node into one exec (`read.sh` takes several ids): a read asked for while
 * none runs starts on the next turn of the event loop with every id asked for by then; one asked for while a
 * read runs joins it if that read covers its process, else the next read, which starts once the running one
 * ends. So the waiters of a node, woken together, cost one exec.
 */
export class RecordBatcher {
  private readonly nodes = new Map<string, { running?: Batch; next?: Batch }>();

  constructor(private readonly read: (nodeId: string, processIds: string[]) => Promise<ProcessRecord[]>) {}

  /** The record of one process as the next (or the running) read of its node gives it; undefined when it has none. */
  get(nodeId: string, processId: string): Promise<ProcessRecord | undefined> {
    let state = this.nodes.get(nodeId);
    if (!state) this.nodes.set(nodeId, (state = {}));
    const node = state;
    if (node.running?.ids.has(processId)) return node.running.done.then((records) => records.get(processId));
    if (!node.next) {
      const ids = new Set<string>();
      const before = node.running ? node.running.done.then(() => undefined, () => undefined) : new Promise<void>((resolve) => setImmediate(resolve));
      const batch: Batch = {
        ids,
        done: before
          .then(() => {
            node.running = batch;
            node.next = undefined;
            return this.read(nodeId, [...ids]);
          })
          .then((records) => new Map(records.map((r) => [r.processId, r])))
          .finally(() => {
            if (node.running === batch) node.running = undefined;
            if (!node.running && !node.next && this.nodes.get(nodeId) === node) this.nodes.delete(nodeId);
          }),
      };
      node.next = batch;
    }
    node.next.ids.add(processId);
    return node.next.done.then((records) => records.get(processId));
  }
}
