import { constants } from 'node:os';
import type { ProcessRecord, ProcessStatus } from '../schemas/process.js';

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, num]) => [num, name]));

/** One process's raw record as `READ_SCRIPT` prints it. */
export type RawRecord = Map<string, string>;

/** Splits `READ_SCRIPT` output into raw records by process id; ids printed as `@missing` are left out. */
export function parseRecords(text: string): Map<string, RawRecord> {
  const records = new Map<string, RawRecord>();
  let current: RawRecord | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('@process ')) {
      current = new Map();
      records.set(line.slice('@process '.length).trim(), current);
    } else if (line.startsWith('@missing ')) {
      current = undefined;
    } else if (current && line) {
      const space = line.indexOf(' ');
      if (space > 0) current.set(line.slice(0, space), line.slice(space + 1));
    }
  }
  return records;
}

const num = (v: string | undefined): number | undefined => {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : undefined;
};

/** Derives a process record from its raw files; `capBytes` tells kept sizes from cut ones. */
export function toRecord(nodeId: string, processId: string, raw: RawRecord, capBytes: number): ProcessRecord {
  let meta: { name?: string; command?: string | string[]; path?: string; envKeys?: string[]; timeoutMs?: number } = {};
  try {
    meta = JSON.parse(raw.get('meta') ?? '{}');
  } catch {
    meta = {};
  }
  const exitCode = num(raw.get('exit_code'));
  const startedAtMs = num(raw.get('started_at')) ?? 0;
  let status: ProcessStatus;
  if (raw.has('lost')) status = 'lost';
  else if (exitCode === undefined) status = raw.has('alive') ? 'running' : 'lost';
  else if (raw.has('timed_out')) status = 'timed_out';
  else if (raw.has('kill_requested')) status = 'killed';
  else status = 'exited';
  // A supervisor that died without writing the exit code leaves a process we can no longer follow.
  const finalExit = status === 'running' ? undefined : (exitCode ?? 137);
  const endedAtMs = status === 'running' ? undefined : (num(raw.get('ended_at')) ?? Date.now());
  const signal = finalExit !== undefined && finalExit > 128 && finalExit < 128 + 65 ? SIGNAL_NAMES.get(finalExit - 128) : undefined;
  const stdoutBytes = num(raw.get('stdout_bytes')) ?? 0;
  const stderrBytes = num(raw.get('stderr_bytes')) ?? 0;
  return {
    processId,
    nodeId,
    name: meta.name ?? 'process',
    command: meta.command ?? '',
    path: meta.path ?? '/',
    envKeys: meta.envKeys ?? [],
    timeoutMs: meta.timeoutMs,
    status,
    exitCode: finalExit,
    signal,
    pid: num(raw.get('pid')),
    startedAt: new Date(startedAtMs).toISOString(),
    startedAtMs,
    endedAt: endedAtMs === undefined ? undefined : new Date(endedAtMs).toISOString(),
    endedAtMs,
    stdoutBytes: Math.min(stdoutBytes, capBytes),
    stderrBytes: Math.min(stderrBytes, capBytes),
    truncated: { stdout: stdoutBytes > capBytes, stderr: stderrBytes > capBytes },
  };
}
