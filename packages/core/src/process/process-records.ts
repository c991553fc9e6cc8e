import { constants } from 'node:os';
import { z } from 'zod';
import type { ProcessRecord, ProcessStatus } from '../schemas/process.js';
import { MAX_RECORD_FILE_BYTES } from './node-scripts.js';
import type { RawRecord } from './record-dump.js';

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, num]) => [num, name]));

/** What the manager writes to a process's `meta` file at its start. */
export const ProcessMetaSchema = z.object({
  name: z.string(),
  command: z.union([z.string(), z.array(z.string())]),
  path: z.string(),
  envKeys: z.array(z.string()),
  timeoutMs: z.number().optional(),
  /** the id of the exec whose main process is the supervisor: the engine keeps its exit code */
  execId: z.string().regex(/^[0-9a-f]{64}$/).optional(),
});
export type ProcessMeta = z.infer<typeof ProcessMetaSchema>;

/** What the engine says of a process's supervisor exec, when it still knows it; nothing in the node can change it. */
export interface ExecTruth {
  running: boolean;
  exitCode?: number;
}

const END = /^(\d{1,3}) (\d{1,16}) (exited|killed|timed_out|lost)( oom_killed)?\n?$/;
const START = /^(\d{1,10}) (\d{1,16}) (\d{1,10})\n?$/;

/** The parsed `end` file: exit code, end time (Unix ms) and reason; undefined when absent or malformed. */
export function endOf(raw: RawRecord): { code: number; endedAtMs: number; reason: ProcessStatus; oomKilled: boolean } | undefined {
  const m = END.exec(raw.files.get('end')?.toString('latin1') ?? '');
  return m ? { code: Number(m[1]), endedAtMs: Number(m[2]), reason: m[3] as ProcessStatus, oomKilled: m[4] !== undefined } : undefined;
}

/** The `meta` file, or why it cannot be read. */
export function metaOf(raw: RawRecord): { meta?: ProcessMeta; error?: string } {
  const size = raw.sizes.get('meta');
  if (size !== undefined && size > MAX_RECORD_FILE_BYTES) {
    return { error: `record file "meta" is ${size} bytes, over the ${MAX_RECORD_FILE_BYTES}-byte bound: not read` };
  }
  const file = raw.files.get('meta');
  if (!file) return { error: 'record file "meta" is missing' };
  try {
    return { meta: ProcessMetaSchema.parse(JSON.parse(file.toString('utf8'))) };
  } catch {
    return { error: 'record file "meta" is not what the manager wrote: not read' };
  }
}

/**
 * Derives a process record. The end comes from the engine when it knows the supervisor exec (`exec`: its exit
 * code, which nothing inside the node can rewrite), else from the `end` file, written atomically and last. A
 * process is `lost` only when the supervisor is provably gone with no end written: its exec ended, or, without
 * an exec, its pid was not alive when checked, before the files were read.
 */
export function toRecord(nodeId: string, processId: string, raw: RawRecord, capBytes: number, exec?: ExecTruth): ProcessRecord {
  const { meta, error } = metaOf(raw);
  const start = START.exec(raw.files.get('start')?.toString('latin1') ?? '');
  const end = endOf(raw);
  const startedAtMs = start ? Number(start[2]) : 0;
  let status: ProcessStatus;
  let exitCode: number | undefined;
  let endedAtMs: number | undefined;
  if (exec?.running) {
    status = 'running';
  } else if (exec && exec.exitCode !== undefined) {
    status = end?.reason ?? 'lost';
    exitCode = exec.exitCode;
    endedAtMs = end?.endedAtMs ?? Date.now();
  } else if (end) {
    ({ reason: status, code: exitCode, endedAtMs } = end);
  } else if (raw.alive) {
    status = 'running';
  } else {
    // The supervisor is gone and wrote no end: nothing can tell how the process ended.
    status = 'lost';
    exitCode = 137;
    endedAtMs = Date.now();
  }
  const signal = exitCode !== undefined && exitCode > 128 && exitCode < 128 + 65 ? SIGNAL_NAMES.get(exitCode - 128) : undefined;
  const stdoutBytes = raw.sizes.get('stdout') ?? 0;
  const stderrBytes = raw.sizes.get('stderr') ?? 0;
  return {
    processId,
    nodeId,
    name: meta?.name ?? 'process',
    command: meta?.command ?? '',
    path: meta?.path ?? '/',
    envKeys: meta?.envKeys ?? [],
    timeoutMs: meta?.timeoutMs,
    status,
    exitCode,
    signal,
    pid: start ? Number(start[1]) : undefined,
    startedAt: new Date(startedAtMs).toISOString(),
    startedAtMs,
    endedAt: endedAtMs === undefined ? undefined : new Date(endedAtMs).toISOString(),
    endedAtMs,
    stdoutBytes: Math.min(stdoutBytes, capBytes),
    stderrBytes: Math.min(stderrBytes, capBytes),
    truncated: { stdout: stdoutBytes > capBytes, stderr: stderrBytes > capBytes },
    ...(status !== 'running' && exitCode === 137 && end?.oomKilled ? { reason: 'oom_killed' as const } : {}),
    ...(error ? { error } : {}),
  };
}
