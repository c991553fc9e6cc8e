import type { ContainerEngine } from '../engine/container-engine.js';
import type { ProcessRecord } from '../schemas/process.js';
import type { ExecTracker } from './exec-tracker.js';
import { MAX_RECORDS_READ_BYTES, MAX_RECORD_FILE_BYTES, READ_SCRIPT } from './node-scripts.js';
import { endOf, metaOf, toRecord, type ExecTruth } from './process-records.js';
import { parseRecordDump, type RawRecord } from './record-dump.js';

/** How long after its end a record's exit code is still checked against the engine (ms): dockerd forgets execs after minutes. */
const EXEC_CHECK_WINDOW_MS = 15 * 60_000;

/** What reading records needs. */
export interface ReaderDeps {
  engine: ContainerEngine;
  tracker: ExecTracker;
  stateDir: string;
  capBytes: number;
  /** exec ids of processes started by this manager (processId -> execId) */
  execIds: Map<string, string>;
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
  const end = endOf(raw);
  if (!ours && end && end.endedAtMs < Date.now() - EXEC_CHECK_WINDOW_MS) return {};
  const info = await deps.engine.inspectExec(execId).catch(() => undefined);
  if (!info || info.containerId !== containerId || info.args[4] !== processId) return {};
  deps.execIds.set(processId, execId);
  return { execId, truth: { running: info.running, exitCode: info.exitCode } };
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
  await Promise.all([...raws].map(async ([id, raw]) => truths.set(id, (await execTruth(deps, containerId, id, raw)).truth)));
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
  return parseRecordDump(result.stdout);
}
