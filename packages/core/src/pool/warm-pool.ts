import { Mutex } from 'async-mutex';
import { inject, injectable } from 'tsyringe';
import type { NodesConfig } from '../config.js';
import type { ContainerEngine, ContainerSummary } from '../engine/container-engine.js';
import { NodeError } from '../errors.js';
import { ImageService } from '../image/image-service.js';
import type { Logger } from '../logger.js';
import type { MetricsPort } from '../metrics.js';
import { NetworkService } from '../network/network-service.js';
import { LABELS, namespaceSelector } from '../node/labels.js';
import { NodeLocks } from '../node/node-locks.js';
import { readSpec } from '../node/node-records.js';
import type { PrunedContainer } from '../node/prune.js';
import { NodeSpecSchema, type NodeSpec } from '../schemas/node.js';
import { parseInput } from '../schemas/parse.js';
import { TOKENS } from '../tokens.js';
import { poolKeyOf } from './pool-keys.js';
import { parsePoolName, poolNameOf, recordNameOf, type NamedRecord } from './pool-names.js';
import { PoolWants } from './pool-wants.js';
import { claimByRename, makeWarmContainer, removeWarmSafely, takeClaimMarker, type Pooled } from './warm-containers.js';

/** Warm containers kept off the networks per pool key, for resets (`.R.`, see `pool-names.ts`), when the pool is on. */
export const READY_PER_KEY = 1;

/**
 * Warm nodes: per pool key (see `poolKeyOf`) up to `poolSize` containers made and started ahead of time, which a
 * create or reset claims instead of making one, and `READY_PER_KEY` more that left the networks once started,
 * which only resets claim (a reset onto one need not wait for it to leave them). The engine is the record (see
 * `pool/pool-names.ts` for why the name, not a label, says what a pooled container became); this class only
 * remembers which pooled containers it may try first. Refills run in the background, one container at a time, and wait while a create or reset of
 * this manager is under way, so that they never compete with a request for the engine.
 */
@injectable()
export class WarmPool {
  private readonly free = new Map<string, Pooled[]>();
  /** ids of warm containers this manager has claimed and not yet made nodes (`.K.`) */
  private readonly claiming = new Set<string>();
  /** container id -> when a sweep first saw it claimed (`.K.`), to tell a dead manager's claim from a live one */
  private readonly claimedSince = new Map<string, number>();
  private readonly wanted: PoolWants;
  private busy = 0;
  private filling?: Promise<void>;
  private closed = false;
  private started = false;
  /** Sweeps and fills take turns: a sweep adopts what is on the engine and must not race a fill adding to it. */
  private readonly turns = new Mutex();

  constructor(
    @inject(TOKENS.ContainerEngine) private readonly engine: ContainerEngine,
    @inject(TOKENS.Config) private readonly config: NodesConfig,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Metrics) private readonly metrics: MetricsPort,
    @inject(ImageService) private readonly images: ImageService,
    @inject(NetworkService) private readonly networks: NetworkService,
    @inject(NodeLocks) private readonly locks: NodeLocks,
  ) {
    const configured = config.poolSpecs.map((input) => parseInput(NodeSpecSchema, input, 'poolSpecs entry'));
    this.wanted = new PoolWants(configured.flatMap((spec) => (this.keyOf(spec) ? [[this.keyOf(spec)!, spec] as [string, NodeSpec]] : [])));
  }

  /** Whether the pool is on (`poolSize` > 0). */
  get enabled(): boolean {
    return this.config.poolSize > 0 && !this.closed;
  }

  /** The pool key of `spec`, or undefined when such a node cannot come from the pool. */
  keyOf(spec: NodeSpec): string | undefined {
    return poolKeyOf(spec, this.config.defaultImage);
  }

  /** Warm containers this manager holds now, over all keys. */
  get size(): number {
    let n = 0;
    for (const list of this.free.values()) n += list.length;
    return n;
  }

  /** Marks a create or reset under way: refills wait until none is. Call the returned function when it ends. */
  enter(): () => void {
    this.busy++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.busy--;
    };
  }

  /**
   * Claims a warm container of `spec` for a new node, if one is free (`claimOne`), and writes the node's record
   * into its name. The node id is the one the container was made with (its hostname and DNS alias).
   * Mirrors `POST /containers/{name}/rename`, `GET /containers/{id}/json`, `POST /containers/{id}/rename`.
   * @returns the node's container as inspected, or undefined when none could be claimed (create one cold).
   */
  async claimForCreate(spec: NodeSpec): Promise<ContainerSummary | undefined> {
    const key = this.noteAsk(spec);
    if (!key || !this.enabled) return undefined;
    try {
      for (let claimed = await this.claimOne(key, false); claimed; claimed = await this.claimOne(key, false)) {
        const { container, id, done } = claimed;
        try {
          const record: NamedRecord = { nodeId: id, createdAt: new Date().toISOString(), resets: 0 };
          const name = recordNameOf(this.config.namespace, record);
          await this.engine.renameContainer(container.id, name);
          return { ...container, name };
        } catch (error) {
          if (!(error instanceof NodeError) || error.code === 'engine_unavailable') throw error;
          this.logger.warn({ containerId: container.id, err: error.message }, 'could not make a claimed warm container a node');
          await this.engine.removeContainer(container.id).catch(() => undefined);
        } finally {
          done();
        }
      }
      return undefined;
    } finally {
      this.refillSoon();
    }
  }

  /** How many free warm containers of a key this manager holds, ready ones (off the networks) or the others. */
  private count(key: string, ready: boolean): number {
    return (this.free.get(key) ?? []).filter((p) => !!p.ready === ready).length;
  }

  /** How many of a key the pool keeps: `poolSize` on the networks, `READY_PER_KEY` off them. */
  private target(ready: boolean): number {
    return ready ? READY_PER_KEY : this.config.poolSize;
  }

  /** Whether a warm container of `spec` is free to claim now, as far as this manager knows (a claim may still lose it). */
  hasFree(spec: NodeSpec): boolean {
    const key = this.keyOf(spec);
    return !!key && this.enabled && this.wanted.has(key) && (this.free.get(key)?.length ?? 0) > 0;
  }

  /**
   * Claims a warm container of `spec` for a reset (`claimOne`), a ready one (off the networks) first: the caller
   * moves the node onto it and renames it
   * to the node's record name (`swapOntoWarm`), then calls `done`.
   * @returns the claimed container as inspected, or undefined when none could be claimed (reset cold).
   */
  async claimForReset(spec: NodeSpec): Promise<{ container: ContainerSummary; done(): void } | undefined> {
    const key = this.keyOf(spec);
    if (!key || !this.enabled || !this.wanted.has(key)) return undefined;
    try {
      return await this.claimOne(key, true);
    } finally {
      this.refillSoon();
    }
  }

  /**
   * Claims one running warm container of the key: renames it, addressed by its pooled name, to its claim name
   * `.K.<id>` (see `pool-names.ts`: of all claimers exactly one succeeds; the others get 404, 400 or 409 and
   * try the next). Until `done`, this manager's sweeps leave it alone.
   */
  private async claimOne(key: string, forReset: boolean): Promise<{ container: ContainerSummary; id: string; done(): void } | undefined> {
    for (let pooled = this.take(key, forReset); pooled; pooled = this.take(key, forReset)) {
      const id = pooled.name.slice(pooled.name.lastIndexOf('.') + 1);
      const release = await takeClaimMarker(this.engine, this.config.namespace, pooled);
      if (!release) continue; // another claimer has it
      this.claiming.add(pooled.id);
      // The marker goes only once the claim's last rename is done (a create's here, a reset's by its caller).
      const done = () => {
        this.claiming.delete(pooled.id);
        release();
      };
      if (!(await this.claim(pooled.name, poolNameOf(this.config.namespace, id, 'claiming')))) {
        done();
        continue;
      }
      const container = await this.engine.inspectContainer(pooled.id);
      if (container?.state === 'running') return { container, id, done };
      // It died while pooled: nobody can use it.
      await this.engine.removeContainer(pooled.id).catch(() => undefined);
      done();
    }
    return undefined;
  }

  /** Takes a free warm container of the key: for a create one on the networks, for a reset a ready one first. */
  private take(key: string, forReset: boolean): Pooled | undefined {
    const list = this.free.get(key) ?? [];
    let i = forReset ? list.findIndex((p) => p.ready) : -1;
    if (i < 0) i = list.findIndex((p) => !p.ready);
    if (i < 0) return undefined;
    const [pooled] = list.splice(i, 1);
    this.metrics.poolSize(this.size);
    return pooled;
  }

  /** Renames a container addressed by `name` to `to`; false when the engine refuses (see `claimByRename`). */
  private claim(name: string, to: string): Promise<boolean> {
    return claimByRename(this.engine, this.logger, name, to);
  }

  /** Counts an ask for `spec` (see `PoolWants`); its pool key, or undefined when it cannot be warm. */
  private noteAsk(spec: NodeSpec): string | undefined {
    const key = this.keyOf(spec);
    if (key && this.enabled) this.wanted.ask(key, spec);
    return key;
  }

  /** Starts the pool: a sweep of what an earlier run left, then a fill, both in the background. */
  start(): void {
    if (this.started || !this.enabled) return;
    this.started = true;
    void this.sweep()
      .catch((error: unknown) => this.logger.warn({ err: String(error) }, 'could not sweep the warm pool'))
      .finally(() => this.refillSoon());
  }

  /** Starts a background refill unless one runs. */
  refillSoon(): void {
    if (!this.enabled || this.filling) return;
    this.started = true;
    this.filling = this.refill()
      .catch((error: unknown) => this.logger.warn({ err: String(error) }, 'warm pool refill failed'))
      .finally(() => {
        this.filling = undefined;
      });
  }

  /** The next warm container to make: a key short of its containers on the networks first, then of ready ones. */
  private nextToMake(): { key: string; ready: boolean } | undefined {
    for (const ready of [false, true]) {
      const key = this.wanted.keys().find((k) => this.count(k, ready) < this.target(ready));
      if (key) return { key, ready };
    }
    return undefined;
  }

  /** Fills every wanted key up to its targets, one container at a time, waiting while requests are under way. */
  private async refill(): Promise<void> {
    for (let failures = 0; this.enabled && failures < 3; ) {
      const next = this.nextToMake();
      if (!next) return;
      const { key, ready } = next;
      while (this.busy > 0 && this.enabled) await new Promise((r) => setTimeout(r, 20));
      if (!this.enabled) return;
      try {
        await this.turns.runExclusive(async () => {
          if (this.count(key, ready) < this.target(ready)) await this.makeOne(key, this.wanted.get(key)!, ready);
        });
        failures = 0;
      } catch (error) {
        failures++;
        this.logger.warn({ err: String(error) }, 'could not make a warm container');
        await new Promise((r) => setTimeout(r, 200 * failures));
      }
    }
  }

  /** Fills up to its targets now and waits for it (what `prune_nodes` does after sweeping). */
  async fillNow(): Promise<void> {
    while (this.filling) await this.filling;
    await this.refill();
  }

  /** Makes one warm container of `spec` (`makeWarmContainer`) and keeps it, unless the pool closed meanwhile. */
  private async makeOne(key: string, spec: NodeSpec, ready: boolean): Promise<void> {
    const { engine, config, images, networks, locks } = this;
    const pooled = await makeWarmContainer({ engine, config, images, networks, locks }, key, spec, ready);
    if (this.closed) {
      await this.engine.removeContainer(pooled.id).catch(() => undefined);
      return;
    }
    (this.free.get(key) ?? this.free.set(key, []).get(key)!).push(pooled);
    this.metrics.poolSize(this.size);
  }

  /**
   * Removes the namespace's warm containers that cannot serve (not running: died or never started; of a spec
   * no longer wanted; unreadable; beyond `poolSize` per key, the oldest kept) and adopts the rest; removes the
   * claimed ones (`.K.`) of a manager that died before making them nodes: not claimed by this manager and seen
   * so by its sweeps for over `pruneGraceMs` (or not running). A pooled one is claimed before it is removed, so
   * a create racing the sweep wins or loses cleanly. Mirrors `GET /containers/json`, `POST
   * /containers/{name}/rename`, `DELETE /containers/{id}?force=true`.
   * @returns the containers removed, with reason `pool_stale` or `claim_leftover`.
   */
  sweep(): Promise<PrunedContainer[]> {
    return this.turns.runExclusive(() => this.sweepNow());
  }

  private async sweepNow(): Promise<PrunedContainer[]> {
    const ns = this.config.namespace;
    const all = await this.engine.listContainers(namespaceSelector(ns));
    const removed: PrunedContainer[] = [];
    // Claim markers of a manager that died mid-claim (created, never started, older than the grace): they would
    // keep their warm container from ever being claimed.
    for (const c of all) {
      if (c.labels[LABELS.role] !== 'claim' || Date.now() - Date.parse(c.createdAt) <= this.config.pruneGraceMs) continue;
      if (await this.removeSafely(c.id)) removed.push({ containerId: c.id, reason: 'claim_leftover' });
    }
    const warm = all
      .filter((c) => c.labels[LABELS.pool] !== undefined)
      .map((c) => ({ c, kind: parsePoolName(ns, c.name)?.kind }))
      .filter(({ kind }) => kind === 'pooled' || kind === 'ready' || kind === 'claiming')
      .sort((a, b) => a.c.createdAt.localeCompare(b.c.createdAt) || a.c.id.localeCompare(b.c.id));
    const keep = new Map<string, Pooled[]>();
    const seen = new Set<string>();
    for (const { c, kind } of warm) {
      const key = c.labels[LABELS.pool]!;
      if (kind === 'claiming') {
        seen.add(c.id);
        const since = this.claimedSince.get(c.id) ?? Date.now();
        this.claimedSince.set(c.id, since);
        const stuck = !this.claiming.has(c.id) && (c.state !== 'running' || Date.now() - since > this.config.pruneGraceMs);
        if (stuck && (await this.removeSafely(c.id))) removed.push({ containerId: c.id, reason: 'claim_leftover' });
        continue;
      }
      const spec = readSpec(c);
      const list = keep.get(key) ?? [];
      const ready = kind === 'ready';
      const good = c.state === 'running' && spec !== undefined && this.enabled && this.wanted.has(key) && this.keyOf(spec) === key;
      if (good && list.filter((p) => !!p.ready === ready).length < this.target(ready)) {
        keep.set(key, [...list, { id: c.id, name: c.name, image: c.image, ...(ready ? { ready } : {}) }]);
        continue;
      }
      const id = c.name.slice(c.name.lastIndexOf('.') + 1);
      // Claimed like a create would, marker first, so that a create racing the sweep wins or loses cleanly.
      const release = await takeClaimMarker(this.engine, ns, { id: c.id, name: c.name, image: c.image });
      if (!release) continue;
      try {
        if (!(await this.claim(c.name, poolNameOf(ns, id, 'claiming')))) continue;
        if (await this.removeSafely(c.id)) removed.push({ containerId: c.id, reason: 'pool_stale' });
      } finally {
        release();
      }
    }
    for (const id of this.claimedSince.keys()) if (!seen.has(id)) this.claimedSince.delete(id);
    this.free.clear();
    for (const [key, list] of keep) this.free.set(key, list);
    this.metrics.poolSize(this.size);
    if (removed.length > 0) this.logger.info({ removed: removed.length }, 'swept the warm pool');
    return removed;
  }

  private removeSafely(containerId: string): Promise<boolean> {
    return removeWarmSafely(this.engine, this.logger, containerId);
  }

  /** Stops refilling and waits for a refill under way; the warm containers stay for the next run to adopt. */
  async close(): Promise<void> {
    this.closed = true;
    await this.filling;
  }
}
