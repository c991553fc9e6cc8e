import type { ContainerEngine } from '../engine/container-engine.js';
import { LimitExceededError } from '../errors.js';
import type { ProcessRecord } from '../schemas/process.js';
import type { ExecTracker } from './exec-tracker.js';
import { MAX_RECORDS_READ_BYTES, MAX_RECORD_FILE_BYTES, READ_SCRIPT } from './node-scripts.js';
import { endOf, metaOf, toRecord, type ExecTruth } from './process-records.js';
import { parseRecordDump, type RawRecord } from './record-dump.js';

/** How many checked execs are remembered (an ended exec's answer never changes). */
const REMEMBERED_CHECKS = 20_000;
/** How many exec inspections one read runs at once. */
const CHECKS_AT_ONCE = 16;

/** What reading records needs. */
export interface ReaderDeps {
  engine: ContainerEngine;
  tracker: ExecTracker;
  stateDir: string;
  capBytes: number;
  /** exec ids of processes started by this manager, or checked against the engine (processId -> execId) */
  execIds: Map<string, string>;
  /** what the engine said of ended or forgotten execs (execId -> truth, null: the engine no longer knows it) */
  checked: Map<string, ExecTruth | null>;
}

/** The arguments of `print_records` after the directory: per-file and total bounds of a read. */
export const boundsArgs = (): string[] => [String(MAX_RECORD_FILE_BYTES), String(MAX_RECORDS_READ_BYTES)];

/**
 * What the engine says of a process's supervisor exec, when it knows it: from the events seen, else
 * `GET /exec/{id}/json`. The exec id is checked against the engine (its container and its arguments name this
 * process), so a record that points at another exec is not believed.
 */
export async function execTruth(deps: ReaderDeps, containerId: string, processId: string, raw: RawRecord): Promise<{ execId?: string; truth?: ExecTruth }> {
  const execId = deps.execIds.get(processId) ?? metaOf(raw).meta?.execId;
  if (!execId) return {};
  const ours = deps.execIds.get(processId) === execId;
  const seen = deps.tracker.exitCodeOf(execId);
  if (ours && seen !== undefined) return { execId, truth: { running: false, exitCode: seen } };
  const known = deps.checked.get(`${processId}/${execId}`);
  if (known !== undefined) return known === null ? {} : { execId, truth: known };
  const info = await deps.engine.inspectExec(execId).catch(() => 'failed' as const);
  if (info === 'failed') return {};
  const valid = info && info.containerId === containerId && info.args[4] === processId;
  const truth = valid ? { running: info.running, exitCode: info.exitCode } : null;
  if (!truth?.running) {
    deps.checked.set(`${processId}/${execId}`, truth);
    if (deps.checked.size > REMEMBERED_CHECKS) deps.checked.delete(deps.checked.keys().next().value!);
  }
  if (!truth) return {};
  deps.execIds.set(processId, execId);
  return { execId, truth };
}

/**
 * Turns raw records into process records, each checked against its supervisor exec. A record read without an
 * end whose exec the engine then reports ended is read once more (`reread`): the end is written before the
 * exec ends, so the second read has it.
 */
export async function toRecords(
  deps: ReaderDeps,
  nodeId: string,
  containerId: string,
  raws: Map<string, RawRecord>,
  reread: (ids: string[]) => Promise<Map<string, RawRecord>>,
): Promise<ProcessRecord[]> {
  const truths = new Map<string, ExecTruth | undefined>();
  const queue = [...raws];
  await Promise.all(
    Array.from({ length: CHECKS_AT_ONCE }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) truths.set(next[0], (await execTruth(deps, containerId, next[0], next[1])).truth);
    }),
  );
  const stale = [...raws].filter(([id, raw]) => !endOf(raw) && truths.get(id) && !truths.get(id)!.running).map(([id]) => id);
  if (stale.length > 0) for (const [id, raw] of await reread(stale)) raws.set(id, raw);
  return [...raws].map(([id, raw]) => toRecord(nodeId, id, raw, deps.capBytes, truths.get(id)));
}

/** Runs `READ_SCRIPT` for these processes (all when empty) in a container and parses its answer, bounded. */
export async function readDump(deps: ReaderDeps, containerId: string, ids: string[]): Promise<Map<string, RawRecord>> {
  const result = await deps.engine.exec(containerId, {
    cmd: ['/bin/sh', '-c', READ_SCRIPT, 'nodes', deps.stateDir, ...boundsArgs(), ...ids],
    maxOutputBytes: MAX_RECORDS_READ_BYTES + 1024 * 1024,
  });
  if (result.exitCode === 137 && result.stdout.length === 0) throw atMemoryLimit(containerId);
  return parseRecordDump(result.stdout);
}

/** A read killed by the out-of-memory killer: its node is at its memory limit. */
export function atMemoryLimit(containerId: string): LimitExceededError {
  return new LimitExceededError(
    `a read in container ${containerId.slice(0, 12)} was killed by the out-of-memory killer: the node is at its memory limit; free memory (kill a process) or reset it`,
  );
}
