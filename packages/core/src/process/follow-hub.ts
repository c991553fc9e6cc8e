import type { AttachedExec } from '../engine/container-engine.js';
import { LimitExceededError } from '../errors.js';
import type { Logger } from '../logger.js';

/** What one follower hears from its process's shared streamer. */
export interface FrameListener {
  /** `n` bytes of a stream starting at byte `offset` */
  frame(stream: 'stdout' | 'stderr', offset: number, bytes: Buffer): void;
  /** the streamer ended: `ended` when it saw the process's end and both streams drained */
  close(ended: boolean): void;
}

/** Caps on following (config `maxFollowersPerProcess`, `maxFollowers`). */
export interface FollowCaps {
  perProcess: number;
  total: number;
}

interface Streamer {
  listeners: Set<FrameListener>;
  attached?: Promise<AttachedExec | undefined>;
}

/**
 * One long-lived attached exec per followed process (`follow.sh`, which reads the output files in the node as
 * they grow), shared by every follower of that process, and closed when the last one leaves (the script then
 * sees its stdin end and exits). Followers cost no exec while the process is quiet.
 */
export class FollowHub {
  private readonly streamers = new Map<string, Streamer>();
  private count = 0;

  constructor(
    private readonly caps: FollowCaps,
    private readonly logger: Logger,
  ) {}

  /** How many followers there are in all. */
  get followers(): number {
    return this.count;
  }

  /**
   * Checks that process `key` (`<nodeId>/<processId>`) may have one more follower.
   * @throws {LimitExceededError} past the caps of followers per process or in all.
   */
  assertRoom(key: string): void {
    if ((this.streamers.get(key)?.listeners.size ?? 0) >= this.caps.perProcess) {
      throw new LimitExceededError(`process "${key.split('/')[1]}" already has ${this.caps.perProcess} followers, the most allowed`);
    }
    if (this.count >= this.caps.total) throw new LimitExceededError(`${this.caps.total} followers are following already, the most allowed`);
  }

  /**
   * Adds a follower of process `key`, starting the shared streamer with `start` when it is the first. Returns a
   * function that removes it.
   * @throws {LimitExceededError} past the caps of followers per process or in all.
   */
  join(key: string, listener: FrameListener, start: () => Promise<AttachedExec>): () => void {
    this.assertRoom(key);
    const existing = this.streamers.get(key);
    const streamer = existing ?? { listeners: new Set<FrameListener>() };
    streamer.listeners.add(listener);
    this.count++;
    if (!existing) {
      this.streamers.set(key, streamer);
      streamer.attached = start().then(
        (attached) => {
          this.pump(key, streamer, attached);
          return attached;
        },
        (error: unknown) => {
          this.logger.debug({ err: String(error) }, 'could not start following a process');
          this.finish(key, streamer, false);
          return undefined;
        },
      );
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.count--;
      streamer.listeners.delete(listener);
      if (streamer.listeners.size === 0 && this.streamers.get(key) === streamer) {
        this.streamers.delete(key);
        void streamer.attached?.then((a) => a?.close());
      }
    };
  }

  /** Reads the streamer's frames (`@<stream> <offset> <n>` + n bytes, `@end`) and hands them to the followers. */
  private pump(key: string, streamer: Streamer, attached: AttachedExec): void {
    let buffered: Buffer = Buffer.alloc(0);
    let ended = false;
    attached.stdout.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      for (;;) {
        const newline = buffered.indexOf(0x0a);
        if (newline < 0) return;
        const header = buffered.subarray(0, newline).toString('latin1');
        if (header === '@end') {
          ended = true;
          buffered = buffered.subarray(newline + 1);
          continue;
        }
        const m = /^@(stdout|stderr) (\d+) (\d+)$/.exec(header);
        if (!m) {
          attached.close();
          return;
        }
        const n = Number(m[3]);
        if (buffered.length < newline + 1 + n) return;
        const bytes = Buffer.from(buffered.subarray(newline + 1, newline + 1 + n));
        buffered = buffered.subarray(newline + 1 + n);
        for (const l of streamer.listeners) l.frame(m[1] as 'stdout' | 'stderr', Number(m[2]), bytes);
      }
    });
    void attached.ended.then(() => this.finish(key, streamer, ended));
  }

  private finish(key: string, streamer: Streamer, ended: boolean): void {
    if (this.streamers.get(key) === streamer) this.streamers.delete(key);
    for (const l of [...streamer.listeners]) l.close(ended);
  }
}
