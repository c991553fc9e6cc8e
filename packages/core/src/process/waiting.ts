import { LimitExceededError, ProcessNotFoundError, TimeoutError } from '../errors.js';
import type { ExecAnswer, LogsQuery, ProcessLogs, ProcessRecord } from '../schemas/process.js';
import type { ExecTracker } from './exec-tracker.js';

/** How often a wait reads the record while the engine's events are not flowing (ms). */
const FALLBACK_POLL_MS = 1_000;
/** How often it reads it anyway while they flow, in case an event never comes (ms). */
const SAFETY_POLL_MS = 15_000;

/**
 * The safety re-reads of waits, one per container: every wait on a container sleeps until the same moment,
 * `SAFETY_POLL_MS` after the first of them began to sleep, so that their reads (merged per node) cost one exec
 * instead of one per wait, each on a timer of its own.
 */
export class SafetyTicks {
  private readonly ticks = new Map<string, { timer: NodeJS.Timeout; wakers: Set<() => void> }>();

  /** @param periodMs how long after the first wait of a container its tick comes (ms) */
  constructor(private readonly periodMs = SAFETY_POLL_MS) {}

  /** Calls `wake` at the container's next tick (at most `periodMs` away); returns a function that cancels it. */
  next(containerId: string, wake: () => void): () => void {
    let tick = this.ticks.get(containerId);
    if (!tick) {
      const wakers = new Set<() => void>();
      const timer = setTimeout(() => {
        this.ticks.delete(containerId);
        for (const w of wakers) w();
      }, this.periodMs);
      this.ticks.set(containerId, (tick = { timer, wakers }));
    }
    const { wakers, timer } = tick;
    wakers.add(wake);
    return () => {
      wakers.delete(wake);
      if (wakers.size === 0 && this.ticks.get(containerId)?.timer === timer) {
        clearTimeout(timer);
        this.ticks.delete(containerId);
      }
    };
  }
}

/** What waiting for processes needs from the process service. */
export interface WaitContext {
  tracker: ExecTracker;
  /** the shared safety re-reads (see `SafetyTicks`) */
  ticks: SafetyTicks;
  /** supervisor exec ids known to this manager (processId -> execId) */
  execIds: Map<string, string>;
  containerOf(nodeId: string): Promise<string>;
  /** a record read, shared by the waits of one process */
  get(nodeId: string, processId: string): Promise<ProcessRecord>;
  logs(nodeId: string, processId: string, query?: LogsQuery): Promise<ProcessLogs>;
}

/**
 * Resolves when the exec ends or the container dies or goes (as the tracker hears it), or after `ms`, or (with
 * `ticks`) at the container's next safety tick, if that comes first.
 */
function untilWoken(tracker: ExecTracker, containerId: string, execId: string | undefined, ms: number, ticks?: SafetyTicks): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopWatch = () => {};
    let stopTick = () => {};
    const done = () => {
      clearTimeout(timer);
      stopWatch();
      stopTick();
      resolve();
    };
    const timer = setTimeout(done, ms);
    stopTick = ticks ? ticks.next(containerId, done) : () => {};
    stopWatch = tracker.watch(containerId, execId, done);
  });
}

/** `promise`, or `error()` once `deadline` (Unix ms) passes. */
async function withDeadline<T>(promise: Promise<T>, deadline: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(error()), Math.max(0, deadline - Date.now()));
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Waits until a process ends and returns its final record: reads it, then sleeps until the engine's events say
 * its supervisor exec ended (or its container died), then reads it again; only while events do not flow does
 * it read every `FALLBACK_POLL_MS`. While they flow it still reads at its container's safety tick (every
 * `SAFETY_POLL_MS`, shared by all waits on that container), in case an event never comes. @throws {TimeoutError} at `timeoutMs`.
 */
export async function waitForEnd(ctx: WaitContext, nodeId: string, processId: string, timeoutMs: number): Promise<ProcessRecord> {
  const deadline = Date.now() + timeoutMs;
  const timedOut = () => new TimeoutError(`process "${processId}" on node "${nodeId}" still runs after ${timeoutMs} ms`);
  let first = true;
  for (;;) {
    const hold = await ctx.tracker.acquire();
    try {
      // The first read always completes (so an unknown process is reported as such); later ones are cut at the deadline.
      const read = first ? ctx.get(nodeId, processId) : withDeadline(ctx.get(nodeId, processId), deadline, timedOut);
      // A node at its memory limit cannot run the read (or runs it without its output); the engine's exec_die
      // still tells when the process ends. So a process this manager started, whose supervisor exec is not
      // known to have ended, is waited for rather than reported missing.
      const started = ctx.execIds.get(processId);
      const record = await read.catch((error: unknown) => {
        if (error instanceof LimitExceededError && hold.live && started) return undefined;
        if (error instanceof ProcessNotFoundError && hold.live && started && ctx.tracker.exitCodeOf(started) === undefined) return undefined;
        throw error;
      });
      first = false;
      if (record && record.status !== 'running') return record;
      if (Date.now() >= deadline) throw timedOut();
      const execId = ctx.execIds.get(processId);
      // While events flow, the read is only a safety net: shared by every wait on the container.
      const safety = hold.live && execId !== undefined;
      const waitMs = Math.min(safety ? SAFETY_POLL_MS : FALLBACK_POLL_MS, deadline - Date.now());
      await untilWoken(ctx.tracker, await ctx.containerOf(nodeId), execId, waitMs, safety ? ctx.ticks : undefined);
    } finally {
      hold.release();
    }
  }
}

/** Reads the pages after `first` until both streams are complete, and joins them into an `ExecAnswer`. */
export async function collectOutput(ctx: WaitContext, first: ProcessLogs): Promise<ExecAnswer> {
  let logs = first;
  const out = { stdout: [logs.stdout.data], stderr: [logs.stderr.data] };
  while (!logs.stdout.complete || !logs.stderr.complete) {
    const next = await ctx.logs(logs.process.nodeId, logs.process.processId, { stdoutOffset: logs.stdout.nextOffset, stderrOffset: logs.stderr.nextOffset });
    if (next.stdout.nextOffset === logs.stdout.nextOffset && next.stderr.nextOffset === logs.stderr.nextOffset) break;
    out.stdout.push(next.stdout.data);
    out.stderr.push(next.stderr.data);
    logs = next;
  }
  return { process: logs.process, exitCode: logs.process.exitCode ?? 137, stdout: out.stdout.join(''), stderr: out.stderr.join('') };
}
