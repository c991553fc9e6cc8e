import type { NodeSpec } from '../schemas/node.js';

/** How many times a spec not configured must be asked for before it is kept warm too. */
export const LEARN_AFTER_ASKS = 3;
/** The most specs kept warm besides the configured ones (the most recently asked win). */
export const MAX_LEARNED_SPECS = 4;

/**
 * Which specs the warm pool keeps warm, by pool key: the configured ones (`poolSpecs`), and any other spec asked
 * for `LEARN_AFTER_ASKS` times while it is among the `MAX_LEARNED_SPECS` most recently asked such. In memory
 * only: after a restart, learned specs are learned again (their warm containers are swept meanwhile).
 */
export class PoolWants {
  private readonly wanted = new Map<string, NodeSpec>();
  private readonly asks = new Map<string, { spec: NodeSpec; count: number; lastMs: number }>();

  constructor(private readonly configured: Array<[string, NodeSpec]>) {
    this.reset([]);
  }

  /** The spec of a wanted key. */
  get(key: string): NodeSpec | undefined {
    return this.wanted.get(key);
  }

  has(key: string): boolean {
    return this.wanted.has(key);
  }

  keys(): string[] {
    return [...this.wanted.keys()];
  }

  /** Counts an ask for `spec` (of pool key `key`); a spec asked for often enough becomes wanted. */
  ask(key: string, spec: NodeSpec): void {
    if (this.wanted.has(key)) return;
    const ask = this.asks.get(key) ?? { spec, count: 0, lastMs: 0 };
    ask.count++;
    ask.lastMs = Date.now();
    this.asks.set(key, ask);
    if (ask.count < LEARN_AFTER_ASKS) return;
    const learned = [...this.asks.entries()].filter(([, a]) => a.count >= LEARN_AFTER_ASKS).sort(([, a], [, b]) => b.lastMs - a.lastMs);
    for (const [k] of learned.slice(MAX_LEARNED_SPECS)) this.asks.delete(k);
    this.reset(learned.slice(0, MAX_LEARNED_SPECS).map(([k, a]) => [k, a.spec]));
  }

  private reset(learned: Array<[string, NodeSpec]>): void {
    this.wanted.clear();
    for (const [k, s] of [...this.configured, ...learned]) this.wanted.set(k, s);
  }
}
