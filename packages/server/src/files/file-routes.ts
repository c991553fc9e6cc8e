import type { Context } from 'koa';
import { z } from 'zod';
import { FileModeSchema, NodeRefSchema, parseInput, type NodeManager } from '@nodes/core';
import { RequestError } from '../middleware/errors.js';

/** The route of a node's files: `?path=` names the file. */
export const FILES_ROUTE = '/nodes/:node_id/files';

/** The query of the files route: `path` (absolute), and for a PUT `mode` (octal bits) and `create_parents`. */
export const FileQuerySchema = z.object({
  path: z.string().min(1),
  mode: z
    .string()
    .regex(/^[0-7]{1,4}$/, 'must be octal permission bits such as 644')
    .transform((m) => Number.parseInt(m, 8))
    .pipe(FileModeSchema)
    .optional(),
  create_parents: z.enum(['true', 'false', '1', '0']).optional(),
});

/**
 * `GET /nodes/:node_id/files?path=/abs/file`: the file's exact bytes as the body (`application/octet-stream`,
 * `Content-Length`, its mode in `X-File-Mode`, octal), streamed from the engine's archive without buffering.
 * Failures answer as JSON in the spec's shape (404 `not_found`, 400, 409 `wrong_state`).
 */
export async function downloadFile(core: NodeManager, ctx: Context): Promise<void> {
  const nodeId = await core.resolveNodeId(parseInput(NodeRefSchema, ctx.params.node_id, 'node id'));
  const query = parseInput(FileQuerySchema, ctx.query, 'query');
  const { info, stream } = await core.readFileStream(nodeId, query.path);
  ctx.status = 200;
  ctx.type = 'application/octet-stream';
  ctx.length = info.sizeBytes;
  ctx.set('X-File-Mode', info.mode.toString(8));
  ctx.body = stream;
}

/**
 * `PUT /nodes/:node_id/files?path=/abs/file[&mode=644][&create_parents=false]`: writes the request body, exactly,
 * streamed into the node (never whole in memory); `Content-Length` is required (411) and at most the core's
 * `maxFileBytes` (413). Answers `{file: {path, size_bytes, mode}}`. Same atomic write as `write_file`.
 */
export async function uploadFile(core: NodeManager, ctx: Context): Promise<void> {
  const nodeId = await core.resolveNodeId(parseInput(NodeRefSchema, ctx.params.node_id, 'node id'));
  const query = parseInput(FileQuerySchema, ctx.query, 'query');
  const length = ctx.request.length;
  if (length === undefined) throw new RequestError('a file upload needs a Content-Length header', 411);
  const file = await core.writeFileStream(nodeId, query.path, ctx.req, length, {
    mode: query.mode,
    createParents: query.create_parents === undefined ? undefined : ['true', '1'].includes(query.create_parents),
  });
  ctx.status = 200;
  ctx.body = { node_id: nodeId, file: { path: file.path, size_bytes: file.sizeBytes, mode: file.mode } };
}
