import type { ExecResult } from '../engine/container-engine.js';
import { EngineError, ProcessNotFoundError } from '../errors.js';
import type { z } from 'zod';
import type { KillOptionsSchema, LogsQuerySchema, ProcessLogs, ProcessRecord } from '../schemas/process.js';
import { KILL_SCRIPT, OUTPUT_SCRIPT } from './node-scripts.js';
import { UTF8_LOOKAHEAD_BYTES, splitLogsOutput, toLogs } from './output-slices.js';
import { parseRecordDump } from './record-dump.js';
import { atMemoryLimit, boundsArgs, readDump, toRecords, type ReaderDeps } from './record-reader.js';

/**
 * The in-node read of `ProcessService.logs` (query already parsed): a process's record and a page of each
 * stream in one exec of `OUTPUT_SCRIPT` on the container given.
 * @returns the logs, or undefined when the output was cut short (the node went away meanwhile).
 * @throws {ProcessNotFoundError} when the node has no such process.
 */
export function logsReader(
  deps: ReaderDeps,
  nodeId: string,
  processId: string,
  query: z.output<typeof LogsQuerySchema>,
): (containerId: string) => Promise<ProcessLogs | undefined> {
  const cap = deps.capBytes;
  const limitFrom = (offset: number) => Math.max(0, Math.min(query.limitBytes, cap - offset));
  const request = {
    nodeId,
    processId,
    capBytes: cap,
    encoding: query.encoding,
    stdout: { offset: query.stdoutOffset, limit: limitFrom(query.stdoutOffset) },
    stderr: { offset: query.stderrOffset, limit: limitFrom(query.stderrOffset) },
  };
  // In utf8 read a few bytes past the page, so that a page can end on, or hold, a whole character.
  const extra = query.encoding === 'utf8' ? UTF8_LOOKAHEAD_BYTES : 0;
  const readFrom = (offset: number, limit: number) => String(Math.min(limit + extra, Math.max(0, cap - offset)));
  const args = [String(query.stdoutOffset), readFrom(query.stdoutOffset, request.stdout.limit), String(query.stderrOffset), readFrom(query.stderrOffset, request.stderr.limit)];
  return async (containerId) => {
    const result = await deps.engine.exec(containerId, {
      cmd: ['/bin/sh', '-c', OUTPUT_SCRIPT, 'nodes', deps.stateDir, processId, ...args, ...boundsArgs()],
    });
    if (result.exitCode === 3) throw new ProcessNotFoundError(nodeId, processId);
    if (result.exitCode === 137 && result.stdout.length === 0) throw atMemoryLimit(containerId);
    const answer = splitLogsOutput(result.stdout, request);
    const raws = answer && (await parseRecordDump(answer.dump));
    if (!answer || !raws?.has(processId)) return undefined;
    const [record] = await toRecords(deps, nodeId, containerId, new Map([[processId, raws.get(processId)!]]), (ids) => readDump(deps, containerId, ids));
    return toLogs(answer, record!, request);
  };
}

/**
 * The in-node part of `ProcessService.kill` (options already parsed): one exec of `KILL_SCRIPT` on the
 * container given, bounded by `graceMs` plus 20 s.
 * @returns the final record as the script dumped it, if any.
 * @throws {ProcessNotFoundError} @throws {EngineError} when the run is still alive after SIGKILL.
 */
export async function killRun(
  deps: ReaderDeps,
  containerId: string,
  nodeId: string,
  processId: string,
  options: z.output<typeof KillOptionsSchema>,
): Promise<ProcessRecord | undefined> {
  const result: ExecResult = await deps.engine.exec(containerId, {
    cmd: ['/bin/sh', '-c', KILL_SCRIPT, 'nodes', deps.stateDir, processId, options.signal, String(options.graceMs), ...boundsArgs()],
    timeoutMs: options.graceMs + 20_000,
  });
  if (result.exitCode === 3) throw new ProcessNotFoundError(nodeId, processId);
  if (result.exitCode === 4) throw new EngineError(`process "${processId}" on node "${nodeId}" is still alive after SIGKILL`);
  if (result.exitCode === 137 && result.stdout.length === 0) throw atMemoryLimit(containerId);
  const raws = await parseRecordDump(result.stdout);
  return (await toRecords(deps, nodeId, containerId, raws, (ids) => readDump(deps, containerId, ids)))[0];
}
