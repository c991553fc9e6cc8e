import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { EngineError, EngineUnavailableError, NodeError, TimeoutError } from '../errors.js';
import type { AttachedExec, EngineEvent, EventSubscription, ExecInfo, ExecOptions, ExecResult, SpawnOptions, SpawnResult } from './container-engine.js';
import { toEnvList } from './docker-env.js';
import { statusOf } from './docker-errors.js';

/** Runs one engine call bounded by a deadline, mapping failures to `NodeError`s (`DockerEngine.call`). */
export type EngineCall = <T>(what: string, fn: (signal: AbortSignal) => Promise<T>, timeoutMs?: number) => Promise<T>;

/** Bytes kept of a spawned command's output before it acknowledges: a launcher prints a line or a message. */
const SPAWN_OUTPUT_BYTES = 64 * 1024;

/** `POST /containers/{id}/exec` then `/exec/{id}/start`, attached to all three streams, without a TTY. */
async function startAttached(docker: Docker, containerId: string, options: { cmd: string[]; env?: Record<string, string> }, abortSignal: AbortSignal) {
  const exec = await docker.getContainer(containerId).exec({
    abortSignal,
    Cmd: options.cmd,
    Env: options.env ? toEnvList(options.env) : undefined,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  } as Docker.ExecCreateOptions);
  const stream = await exec.start({ hijack: true, stdin: true });
  return { exec, stream };
}

/** See `ContainerEngine.spawnExec`. */
export async function spawnExec(docker: Docker, call: EngineCall, containerId: string, options: SpawnOptions): Promise<SpawnResult> {
  return call(
    `spawn exec in container ${containerId.slice(0, 12)}`,
    async (abortSignal) => {
      const { exec, stream } = await startAttached(docker, containerId, options, abortSignal);
      abortSignal.addEventListener('abort', () => stream.destroy(), { once: true });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const detach = options.detach ?? true;
      const bound = detach ? SPAWN_OUTPUT_BYTES : (options.maxOutputBytes ?? SPAWN_OUTPUT_BYTES);
      let bytes = 0;
      let acked = false;
      const keep = (into: Buffer[]) => (b: Buffer) => {
        bytes += b.length;
        if (bytes > bound) {
          if (!detach) stream.destroy(new EngineError(`an exec in container ${containerId.slice(0, 12)} wrote more than ${bound} bytes`));
          return;
        }
        into.push(b);
      };
      const detached = await new Promise<boolean>((resolve, reject) => {
        const out = new PassThrough().on('data', (b: Buffer) => {
          keep(stdout)(b);
          if (acked) return;
          const text = Buffer.concat(stdout).toString('latin1');
          const at = text.startsWith(options.ackPrefix) ? 0 : text.indexOf(`\n${options.ackPrefix}`) + 1;
          acked = at >= 0 && (at > 0 || text.startsWith(options.ackPrefix)) && text.indexOf('\n', at) >= 0;
          if (acked) options.onAck?.();
          if (acked && detach) resolve(true);
        });
        docker.modem.demuxStream(stream, out, new PassThrough().on('data', keep(stderr)));
        stream.on('end', () => resolve(false));
        stream.on('close', () => resolve(false));
        stream.on('error', reject);
        stream.end(options.stdin(exec.id));
      });
      const result = { execId: exec.id, acknowledged: acked, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) };
      if (detached) {
        // The command runs on: closing the connection leaves it running (the engine keeps its exit code).
        stream.destroy();
        return result;
      }
      for (;;) {
        const info = await exec.inspect({ abortSignal } as {});
        if (!info.Running && info.ExitCode !== null) return { ...result, exitCode: info.ExitCode };
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    options.timeoutMs,
  );
}

/** See `ContainerEngine.inspectExec`. */
export async function inspectExec(docker: Docker, call: EngineCall, execId: string): Promise<ExecInfo | undefined> {
  try {
    const info = await call(`inspect exec ${execId.slice(0, 12)}`, (abortSignal) => docker.getExec(execId).inspect({ abortSignal } as {}));
    return {
      id: info.ID,
      containerId: info.ContainerID,
      running: info.Running,
      exitCode: info.Running || info.ExitCode === null ? undefined : info.ExitCode,
      args: info.ProcessConfig?.arguments ?? [],
    };
  } catch (error) {
    if (error instanceof NodeError && statusOf(error.cause) === 404) return undefined;
    throw error;
  }
}

/** See `ContainerEngine.attachExec`. */
export async function attachExec(
  docker: Docker,
  call: EngineCall,
  containerId: string,
  options: { cmd: string[]; env?: Record<string, string> },
): Promise<AttachedExec> {
  return call(`attach exec in container ${containerId.slice(0, 12)}`, async (abortSignal) => {
    const { exec, stream } = await startAttached(docker, containerId, options, abortSignal);
    const stdout = new PassThrough();
    docker.modem.demuxStream(stream, stdout, new PassThrough().resume());
    const ended = new Promise<void>((resolve) => {
      const done = () => {
        stdout.end();
        resolve();
      };
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', done);
    });
    return { execId: exec.id, stdout, ended, close: () => stream.destroy() };
  });
}

/** See `ContainerEngine.subscribeEvents`. */
export async function subscribeEvents(
  docker: Docker,
  call: EngineCall,
  actions: string[],
  onEvent: (event: EngineEvent) => void,
  onError: (error: Error) => void,
): Promise<EventSubscription> {
  const filters = JSON.stringify({ type: ['container'], event: actions });
  const stream = (await call('subscribe to events', (abortSignal) => docker.getEvents({ filters, abortSignal } as {}))) as NodeJS.ReadableStream & {
    destroy(): void;
  };
  let closed = false;
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (!line) continue;
      try {
        const e = JSON.parse(line) as { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
        onEvent({ type: e.Type ?? '', action: e.Action ?? '', id: e.Actor?.ID ?? '', attributes: e.Actor?.Attributes ?? {} });
      } catch {
        // A line that is not JSON is not an event: skip it.
      }
    }
  });
  const fail = (error: Error) => {
    if (closed) return;
    closed = true;
    onError(error);
  };
  stream.on('error', (error: Error) => fail(new EngineError(`the engine's event stream failed: ${error.message}`)));
  stream.on('end', () => fail(new EngineError("the engine's event stream ended")));
  return {
    close: () => {
      closed = true;
      stream.destroy();
    },
  };
}

/** See `ContainerEngine.exec`. */
export async function runExec(docker: Docker, call: EngineCall, engineTimeoutMs: number, containerId: string, options: ExecOptions): Promise<ExecResult> {
  const what = `exec in container ${containerId.slice(0, 12)}`;
  const timeoutMs = options.timeoutMs ?? engineTimeoutMs;
  const run = async (abortSignal: AbortSignal): Promise<ExecResult> => {
    const exec = await docker.getContainer(containerId).exec({
      abortSignal,
      Cmd: options.cmd,
      Env: options.env ? toEnvList(options.env) : undefined,
      WorkingDir: options.workingDir,
      User: options.user,
      AttachStdin: options.stdin !== undefined,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    } as Docker.ExecCreateOptions);
    const stream = await exec.start({ hijack: true, stdin: options.stdin !== undefined });
    abortSignal.addEventListener('abort', () => stream.destroy(), { once: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let bytes = 0;
    const keep = (into: Buffer[]) => (b: Buffer) => {
      bytes += b.length;
      if (options.maxOutputBytes !== undefined && bytes > options.maxOutputBytes) {
        stream.destroy(new EngineError(`${what} wrote more than ${options.maxOutputBytes} bytes of output`));
        return;
      }
      into.push(b);
    };
    const out = new PassThrough().on('data', keep(stdout));
    const err = new PassThrough().on('data', keep(stderr));
    // Without a TTY the engine multiplexes both streams on one connection: demultiplex it.
    docker.modem.demuxStream(stream, out, err);
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', reject);
    });
    if (options.stdin !== undefined) stream.end(options.stdin);
    await ended;
    // The exit code is null until the engine has seen the process end: poll briefly.
    for (;;) {
      const info = await exec.inspect({ abortSignal } as {});
      if (!info.Running && info.ExitCode !== null) {
        return { exitCode: info.ExitCode, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) };
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  try {
    return await call(what, run, timeoutMs);
  } catch (error) {
    if (error instanceof EngineUnavailableError && /did not answer within/.test(error.message) && options.timeoutMs) {
      throw new TimeoutError(`${what} did not finish within ${timeoutMs} ms`);
    }
    throw error;
  }
}
