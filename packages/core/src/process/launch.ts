import { EngineError, ImageUnavailableError, ValidationError } from '../errors.js';
import type { SpawnOptions, SpawnResult } from '../engine/container-engine.js';
import type { ProcessRecord, ResolvedProcessConfig } from '../schemas/process.js';
import { LAUNCH_EXIT, LAUNCH_SCRIPT, MAX_RECORDS_READ_BYTES, MAX_RECORD_FILE_BYTES } from './node-scripts.js';

/** What `launch.sh` needs besides the config. */
export interface LaunchArgs {
  stateDir: string;
  processId: string;
  capBytes: number;
  /** 0: the supervisor detaches once started; else it stays attached and reports this much of each stream at the end */
  pageBytes: number;
}

/**
 * The most stdin bytes `launch.sh` reads with the shell's `read` (no fork, but one byte per system call and a
 * copy of the command per line); a larger stdin goes through a file in the node.
 */
const READ_LINES_MAX_BYTES = 4096;

/**
 * The exec that starts a process (see `launch.sh`): the script in argv, an argv command after it (exact bytes,
 * no quoting), and on stdin the meta JSON line (with the exec's own id) and a shell command's exact bytes.
 */
export function launchExec(config: ResolvedProcessConfig, args: LaunchArgs): { options: SpawnOptions; meta: Omit<ProcessRecord, 'processId' | 'nodeId' | 'status' | 'startedAt' | 'startedAtMs' | 'stdoutBytes' | 'stderrBytes' | 'truncated'> } {
  const shell = typeof config.command === 'string';
  const meta = { name: config.name, command: config.command, path: config.path, envKeys: Object.keys(config.env), timeoutMs: config.timeoutMs };
  const argv = [
    args.stateDir,
    args.processId,
    config.path,
    String(args.capBytes),
    String(config.timeoutMs ?? 0),
    String(config.graceMs),
    String(args.pageBytes),
    String(MAX_RECORD_FILE_BYTES),
    String(MAX_RECORDS_READ_BYTES),
  ];
  const command = shell ? Buffer.from(config.command as string) : Buffer.alloc(0);
  const stdin = (execId: string) => Buffer.concat([Buffer.from(`${JSON.stringify({ ...meta, execId })}\n`), command]);
  // The exec id (64 hex digits) is not known yet: a stand-in of its length counts it.
  const input = stdin('0'.repeat(64)).length <= READ_LINES_MAX_BYTES ? 'lines' : 'file';
  return {
    meta,
    options: {
      cmd: ['/bin/sh', '-c', LAUNCH_SCRIPT, 'nodes', ...argv, input, shell ? 'shell' : 'argv', ...(shell ? [] : (config.command as string[]))],
      env: config.env,
      stdin,
      ackPrefix: '@started ',
    },
  };
}

/**
 * The error of a launch that ended before its process started.
 * @returns {ValidationError} for a missing working directory, {ImageUnavailableError} for an image without
 * `/bin/sh` or a tool processes need, {EngineError} otherwise.
 */
export function launchError(result: SpawnResult, nodeId: string, name: string, image: string): Error {
  const message = Buffer.concat([result.stderr, result.stdout]).toString('utf8').trim().slice(0, 500);
  if (result.exitCode === LAUNCH_EXIT.missingCwd) return new ValidationError(`invalid process config: path: ${message}`, [`path: ${message}`]);
  if (result.exitCode === LAUNCH_EXIT.missingTool) return new ImageUnavailableError(image, `node "${nodeId}": ${message} (image "${image}")`);
  if ((result.exitCode === 126 || result.exitCode === 127) && /\/bin\/sh|no such file|not found/i.test(message)) {
    return new ImageUnavailableError(image, `node "${nodeId}": the image "${image}" has no /bin/sh, which processes need`);
  }
  return new EngineError(`process "${name}" could not be started on node "${nodeId}": ${message || `launcher exit code ${result.exitCode}`}`);
}

/** Runs `read` unless the same `key` is being read already, in which case its answer is shared. */
export function shared<T>(inFlight: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  let promise = inFlight.get(key);
  if (!promise) {
    promise = read().finally(() => inFlight.delete(key));
    inFlight.set(key, promise);
  }
  return promise;
}

/** The `@started <pid> <started at ms>` line of a launch, and what the supervisor printed after it. */
export function startedOf(stdout: Buffer): { pid: number; startedAtMs: number; rest: Buffer } | undefined {
  const at = stdout.indexOf('@started ');
  const newline = at < 0 ? -1 : stdout.indexOf(0x0a, at);
  const m = newline < 0 ? null : /^@started (\d+) (\d+)$/.exec(stdout.subarray(at, newline).toString('latin1'));
  return m ? { pid: Number(m[1]), startedAtMs: Number(m[2]), rest: stdout.subarray(newline + 1) } : undefined;
}
