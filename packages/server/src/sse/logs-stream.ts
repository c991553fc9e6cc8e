import type { Context } from 'koa';
import { z } from 'zod';
import { NodeRefSchema, OutputEncodingSchema, ProcessIdSchema, parseInput, type NodeManager } from '@nodes/core';
import { RequestError } from '../middleware/errors.js';
import { toWireProcess } from '../rpc/wire.js';

/** How often a followed stream asks the node for new output (ms). */
export const FOLLOW_POLL_MS = 250;

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
 * `GET /nodes/:node_id/processes/:process_id/logs[?follow=1]`: a process's output as Server-Sent Events.
 * Events: `stdout` and `stderr` with data `{"data": "...", "encoding": "utf8", "offset": N}` (`?encoding=base64`
 * for exact bytes), each with id
 * `<stdout offset>,<stderr offset>` (bytes read so far), so that a client reconnecting with `Last-Event-ID` gets
 * exactly the rest; then `end` with the final process record. Without `follow` it ends after what is there now.
 * @throws {NodeError} before the stream starts (unknown node or process, bad query, a `Last-Event-ID` or offset
 *   past the output written), answered as JSON.
 */
export async function streamLogs(core: NodeManager, ctx: Context): Promise<void> {
  const nodeId = await core.resolveNodeId(parseInput(NodeRefSchema, ctx.params.node_id, 'node id'));
  const processId = parseInput(ProcessIdSchema, ctx.params.process_id, 'process id');
  const query = parseInput(QuerySchema, ctx.query, 'query');
  const follow = query.follow === '1' || query.follow === 'true';
  const resume = parseEventId(ctx.get('Last-Event-ID'));
  let stdoutOffset = resume?.[0] ?? query.stdout_offset ?? 0;
  let stderrOffset = resume?.[1] ?? query.stderr_offset ?? 0;
  const record = await core.getProcess(nodeId, processId);
  if (stdoutOffset > record.stdoutBytes || stderrOffset > record.stderrBytes) {
    // An offset past what the process wrote was never one of this stream's ids: say so, do not wait for bytes.
    throw new RequestError(
      `offsets ${stdoutOffset},${stderrOffset} are past the process's output (${record.stdoutBytes} bytes of stdout, ${record.stderrBytes} of stderr)`,
    );
  }

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
  res.on('close', () => {
    closed = true;
  });
  const send = (event: string, data: unknown, id?: string) => {
    if (!closed) res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };

  void (async () => {
    try {
      for (;;) {
        const { process, stdout, stderr } = await core.getProcessLogs(nodeId, processId, { stdoutOffset, stderrOffset, encoding: query.encoding });
        if (stdout.data.length > 0 || stdout.nextOffset > stdoutOffset) {
          stdoutOffset = stdout.nextOffset;
          send('stdout', { data: stdout.data, encoding: stdout.encoding, offset: stdout.offset }, `${stdoutOffset},${stderrOffset}`);
        }
        if (stderr.data.length > 0 || stderr.nextOffset > stderrOffset) {
          stderrOffset = stderr.nextOffset;
          send('stderr', { data: stderr.data, encoding: stderr.encoding, offset: stderr.offset }, `${stdoutOffset},${stderrOffset}`);
        }
        if ((stdout.complete && stderr.complete) || !follow || closed) {
          // The record was read before the data: when it says ended and both streams are drained, this is the end.
          if (!closed) send('end', { process: toWireProcess(process) }, `${stdoutOffset},${stderrOffset}`);
          break;
        }
        await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      }
    } catch (error) {
      const e = error as { code?: string; message?: string };
      if (!closed) send('error', { code: e.code ?? 'internal_error', detail: e.code ? e.message : 'internal error' });
    } finally {
      res.end();
    }
  })();
}
