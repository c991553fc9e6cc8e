import type { Context } from 'koa';
import { z } from 'zod';
import { NodeRefSchema, OutputEncodingSchema, ProcessIdSchema, parseInput, type NodeManager } from '@nodes/core';
import { RequestError } from '../middleware/errors.js';
import { toWireProcess } from '../rpc/wire.js';

/** How often a quiet stream sends a comment line (ms): proxies cut streams silent for 60 s. */
export const SSE_HEARTBEAT_MS = 15_000;

const QuerySchema = z.object({
  follow: z.enum(['0', '1', 'true', 'false']).optional(),
  stdout_offset: z.coerce.number().int().min(0).optional(),
  stderr_offset: z.coerce.number().int().min(0).optional(),
  encoding: OutputEncodingSchema.optional(),
});

/**
 * `Last-Event-ID` is `<stdout offset>,<stderr offset>`: where the client has read up to, in bytes.
 * @throws {RequestError} on any other value, rather than silently replaying from the start.
 */
function parseEventId(id: string): [number, number] | undefined {
  if (id.trim() === '') return undefined;
  const m = /^(\d+),(\d+)$/.exec(id.trim());
  if (!m) throw new RequestError(`Last-Event-ID must be "<stdout offset>,<stderr offset>" as this stream's ids are, not "${id.slice(0, 64)}"`);
  return [Number(m[1]), Number(m[2])];
}

/**
 * `GET /nodes/:node_id/processes/:process_id/logs[?follow=1]`: a process's output as Server-Sent Events, a thin
 * adapter over the library's `followOutput`. Events: `stdout` and `stderr` with data
 * `{"data": "...", "encoding": "utf8", "offset": N}` (`?encoding=base64` for exact bytes), each with id
 * `<stdout offset>,<stderr offset>` (bytes read so far), so that a client reconnecting with `Last-Event-ID` gets
 * exactly the rest; then `end` with the final process record, or `error` `{code, detail}`. Without `follow` it
 * ends after what is there now. A comment line every `heartbeatMs` keeps a quiet stream open. A client that
 * does not read is dropped once the output waiting for it passes the manager's `followerQueueBytes`.
 * @throws {NodeError} before the stream starts, answered as JSON: unknown node or process, bad query, a
 * `Last-Event-ID` past what the process wrote (400), too many followers (429).
 */
export async function streamLogs(core: NodeManager, ctx: Context, options: { heartbeatMs?: number } = {}): Promise<void> {
  const nodeId = await core.resolveNodeId(parseInput(NodeRefSchema, ctx.params.node_id, 'node id'));
  const processId = parseInput(ProcessIdSchema, ctx.params.process_id, 'process id');
  const query = parseInput(QuerySchema, ctx.query, 'query');
  const follow = query.follow === '1' || query.follow === 'true';
  const resume = parseEventId(ctx.get('Last-Event-ID'));
  const from = { stdout: resume?.[0] ?? query.stdout_offset ?? 0, stderr: resume?.[1] ?? query.stderr_offset ?? 0 };
  const record = await core.getProcess(nodeId, processId);
  if (from.stdout > record.stdoutBytes || from.stderr > record.stderrBytes) {
    // An offset past what the process wrote was never one of this stream's ids: say so, do not wait for bytes.
    throw new RequestError(
      `offsets ${from.stdout},${from.stderr} are past the process's output (${record.stdoutBytes} bytes of stdout, ${record.stderrBytes} of stderr)`,
    );
  }
  if (follow) core.assertCanFollow(nodeId, processId);

  // Koa would pipe a body stream and report a client that goes away as an error: write the response ourselves.
  ctx.req.socket.setTimeout(0);
  ctx.status = 200;
  ctx.respond = false;
  const res = ctx.res;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
  });
  let closed = false;
  let drained: (() => void) | undefined;
  const gone = new AbortController();
  res.on('close', () => {
    closed = true;
    gone.abort();
    drained?.();
  });
  res.on('drain', () => drained?.());
  /** Writes one event; waits while the client's buffer is full (the follower's queue then bounds what waits). */
  const send = async (text: string) => {
    if (closed) return;
    if (!res.write(text)) await new Promise<void>((r) => (drained = r));
    drained = undefined;
  };
  const event = (name: string, data: unknown, id?: string) => send(`${id === undefined ? '' : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  const heartbeat = setInterval(() => {
    if (!closed && res.writableLength === 0) res.write(': heartbeat\n\n');
  }, options.heartbeatMs ?? SSE_HEARTBEAT_MS);

  void (async () => {
    const pos = { ...from };
    const id = () => `${pos.stdout},${pos.stderr}`;
    try {
      if (!follow) {
        const logs = await core.getProcessLogs(nodeId, processId, { stdoutOffset: pos.stdout, stderrOffset: pos.stderr, encoding: query.encoding });
        for (const stream of ['stdout', 'stderr'] as const) {
          const c = logs[stream];
          if (c.nextOffset === pos[stream]) continue;
          pos[stream] = c.nextOffset;
          await event(stream, { data: c.data, encoding: c.encoding, offset: c.offset }, id());
        }
        await event('end', { process: toWireProcess(logs.process) }, id());
        return;
      }
      const events = core.followOutput(nodeId, processId, { from, encoding: query.encoding }, gone.signal);
      for await (const e of events) {
        if (closed) break;
        if (e.type === 'end') {
          await event('end', { process: toWireProcess(e.process) }, id());
          break;
        }
        pos[e.stream] = e.nextOffset;
        await event(e.stream, { data: e.data, encoding: e.encoding, offset: e.offset }, id());
      }
    } catch (error) {
      const e = error as { code?: string; message?: string };
      if (!closed) await event('error', { code: e.code ?? 'internal_error', detail: e.code ? e.message : 'internal error' });
    } finally {
      clearInterval(heartbeat);
      res.end();
    }
  })();
}
