import type { ContainerEngine } from '../engine/container-engine.js';
import { EngineError } from '../errors.js';
import type { FollowChunk, FollowEvent, OutputEncoding, ProcessLogs, LogsQuery } from '../schemas/process.js';
import type { FollowHub } from './follow-hub.js';
import { FOLLOW_SCRIPT } from './node-scripts.js';
import { incompleteUtf8Tail } from './output-slices.js';

/** Most bytes one frame of the streamer carries. */
const FRAME_BYTES = 64 * 1024;

/** What following needs from the process service. */
export interface FollowDeps {
  engine: ContainerEngine;
  hub: FollowHub;
  stateDir: string;
  capBytes: number;
  /** bytes of output queued for one follower that does not take it; past it, it is dropped */
  maxQueuedBytes: number;
  logs(nodeId: string, processId: string, query: LogsQuery): Promise<ProcessLogs>;
  containerOf(nodeId: string): Promise<string>;
}

type Stream = 'stdout' | 'stderr';

/**
 * Follows a process's output: the frames of the process's shared streamer (see `FollowHub`), from `from` on,
 * then a read once the streamer saw the end, which gives the final record (and the error, for a process or
 * node that is not there). A gap between what this follower has and a frame (it joined a streamer that was
 * ahead) is filled with a read.
 * Yields chunks whose offsets are bytes of their stream, and in `utf8` never ends one inside a character.
 * @throws {LimitExceededError} past the follower caps. @throws {EngineError} when this follower fell more than
 * `maxQueuedBytes` behind. @throws {NodeNotFoundError} when the node goes away. An aborted `signal` ends it
 * at once, with no end event (the caller went away).
 */
export async function* followProcess(
  deps: FollowDeps,
  nodeId: string,
  processId: string,
  from: { stdout: number; stderr: number },
  encoding: OutputEncoding,
  signal?: AbortSignal,
): AsyncGenerator<FollowEvent> {
  const pos: Record<Stream, number> = { ...from };
  const chunk = (stream: Stream, bytes: Buffer, offset: number): FollowChunk => ({
    stream,
    data: bytes.toString(encoding),
    encoding,
    offset,
    nextOffset: offset + bytes.length,
  });

  /** Reads from `pos` until the answer stops moving or holds the end; yields what it read. */
  async function* read(untilComplete: boolean): AsyncGenerator<FollowEvent, ProcessLogs> {
    for (;;) {
      const logs = await deps.logs(nodeId, processId, { stdoutOffset: pos.stdout, stderrOffset: pos.stderr, encoding });
      let moved = false;
      for (const stream of ['stdout', 'stderr'] as const) {
        const c = logs[stream];
        if (c.nextOffset > pos[stream]) {
          yield { type: 'output', stream, data: c.data, encoding, offset: c.offset, nextOffset: c.nextOffset };
          pos[stream] = c.nextOffset;
          moved = true;
        }
      }
      const complete = logs.stdout.complete && logs.stderr.complete;
      if (complete || !untilComplete || !moved) return logs;
    }
  }

  // No read first: the streamer sends what is there from `from` on, so following a running process costs its
  // one exec. An unknown process or a node that is gone ends the streamer at once, and the read after it says why.
  let logs: ProcessLogs | undefined;
  for (let restarts = 0; !signal?.aborted && !(logs?.stdout.complete && logs.stderr.complete); restarts++) {
    if (restarts > 5) throw new EngineError(`output of process "${processId}" on node "${nodeId}" could not be followed`);
    const queue: Array<{ stream: Stream; offset: number; bytes: Buffer } | { closed: boolean }> = [];
    let queuedBytes = 0;
    let dropped = false;
    let wake: (() => void) | undefined;
    const push = (item: (typeof queue)[number]) => {
      queue.push(item);
      wake?.();
    };
    let leave = () => {};
    leave = deps.hub.join(
      `${nodeId}/${processId}`,
      {
        frame: (stream, offset, bytes) => {
          if (dropped) return;
          queuedBytes += bytes.length;
          if (queuedBytes > deps.maxQueuedBytes) {
            // A follower that does not take its output is dropped, not buffered without end.
            dropped = true;
            queue.length = 0;
            leave();
            wake?.();
            return;
          }
          push({ stream, offset, bytes });
        },
        close: (ended) => push({ closed: ended }),
      },
      async () => {
        const containerId = await deps.containerOf(nodeId);
        return deps.engine.attachExec(containerId, {
          cmd: ['/bin/sh', '-c', FOLLOW_SCRIPT, 'nodes', deps.stateDir, processId, String(pos.stdout), String(pos.stderr), String(FRAME_BYTES), String(deps.capBytes)],
        });
      },
    );
    const onAbort = () => push({ closed: false });
    signal?.addEventListener('abort', onAbort, { once: true });
    const pending: Record<Stream, Buffer> = { stdout: Buffer.alloc(0) as Buffer, stderr: Buffer.alloc(0) as Buffer };
    try {
      for (;;) {
        if (queue.length === 0 && !dropped) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        if (dropped) throw new EngineError(`a follower of process "${processId}" fell more than ${deps.maxQueuedBytes} bytes behind and was dropped`);
        const item = queue.shift()!;
        if ('closed' in item) break;
        queuedBytes -= item.bytes.length;
        const { stream, offset, bytes } = item;
        const have = pos[stream] + pending[stream].length;
        if (offset > have) {
          // This follower joined a streamer that was ahead of it: read the gap, then go on with the frames.
          pending[stream] = Buffer.alloc(0);
          logs = yield* read(false);
          if (offset > pos[stream]) continue;
        }
        const fresh = bytes.subarray(Math.max(0, pos[stream] + pending[stream].length - offset));
        if (fresh.length === 0) continue;
        let data = Buffer.concat([pending[stream], fresh]);
        const cut = encoding === 'utf8' ? incompleteUtf8Tail(data) : 0;
        pending[stream] = data.subarray(data.length - cut);
        data = data.subarray(0, data.length - cut);
        if (data.length === 0) continue;
        yield { type: 'output', ...chunk(stream, data, pos[stream]) };
        pos[stream] += data.length;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      leave();
    }
    if (signal?.aborted) return;
    // The streamer ended (the process's end, the node going away, or a stop): read on from here.
    logs = yield* read(true);
  }
  if (!signal?.aborted && logs) yield { type: 'end', process: logs.process };
}
