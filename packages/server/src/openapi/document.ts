import { z } from 'zod';
import { NODE_ERROR_CODES, OutputEncodingSchema } from '@nodes/core';
import { httpStatusOf } from '../middleware/errors.js';
import { METHODS, type RpcMethod } from '../rpc/methods.js';
import { WireProcessSchema } from '../rpc/wire.js';
import { FileQuerySchema } from '../files/file-routes.js';

type JsonSchema = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect); refinements that JSON Schema cannot say are left out. */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

/**
 * HTTP statuses of failures and the codes each answers with: from `httpStatusOf` over every code, plus the
 * statuses of requests that cannot be routed or read (`invalid_request`: 404 route, 405 verb, 413 body, 415 type).
 */
export function failureStatuses(): Map<number, string[]> {
  const byStatus = new Map<number, string[]>();
  const add = (status: number, code: string) => byStatus.set(status, [...new Set([...(byStatus.get(status) ?? []), code])]);
  for (const code of NODE_ERROR_CODES) if (code !== 'server_unavailable') add(httpStatusOf(code), code);
  for (const status of [404, 405, 413, 415]) add(status, 'invalid_request');
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

function failureResponses(): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, codes] of failureStatuses()) {
    responses[String(status)] = { description: `failed: ${codes.join(', ')}`, content: json(ref('Failure')) };
  }
  return responses;
}

/** Components of one method: `<name>_args`, `<name>_result`, and its request and success-response envelopes. */
function methodComponents(name: string, m: RpcMethod): Record<string, JsonSchema> {
  const args = jsonSchemaOf(m.args, 'input');
  const argsRequired = Array.isArray(args.required) && args.required.length > 0;
  return {
    [`${name}_args`]: args,
    [`${name}_result`]: jsonSchemaOf(z.object({ status: z.literal('success'), message: z.string() }).extend(m.result.shape), 'output'),
    [`${name}_request`]: {
      type: 'object',
      description: `\`${name}\`: answers "${m.success}" on success, "${m.failure}" on failure.`,
      properties: { method: { const: name }, args: ref(`${name}_args`), timestamp: ref('Timestamp') },
      required: argsRequired ? ['method', 'args'] : ['method'],
    },
    [`${name}_response`]: {
      type: 'object',
      properties: {
        request: { description: 'the request exactly as received' },
        result: ref(`${name}_result`),
      },
      required: ['request', 'result'],
    },
  };
}

/**
 * The OpenAPI 3.1 document of the server, made from the method table (`METHODS`) and its zod schemas: `POST /`
 * with one request and one response variant per method (discriminated by `method`), the SSE logs route, and every
 * failure status with its error codes. A method added to `METHODS` shows here with no other change.
 */
export function openApiDocument(options: { version?: string } = {}): Record<string, unknown> {
  const table: Readonly<Record<string, RpcMethod>> = METHODS;
  const names = Object.keys(table);
  const schemas: Record<string, JsonSchema> = {
    Timestamp: { type: 'number', minimum: 0, description: 'Unix time in seconds, a float as Python\'s time.time() gives; optional' },
    ErrorCode: { type: 'string', enum: NODE_ERROR_CODES.filter((c) => c !== 'server_unavailable') },
    Failure: {
      type: 'object',
      properties: {
        request: { description: 'the request as received (null when it could not be read)' },
        result: {
          type: 'object',
          properties: {
            status: { const: 'failed' },
            message: { type: 'string', description: 'the method\'s failure message, or "request failed"' },
            error: { type: 'object', properties: { code: ref('ErrorCode'), detail: { type: 'string' } }, required: ['code', 'detail'] },
          },
          required: ['status', 'message', 'error'],
        },
      },
      required: ['request', 'result'],
    },
    LogChunkEvent: {
      type: 'object',
      description: 'data of a `stdout` or `stderr` event; the event id is `<stdout offset>,<stderr offset>` in bytes',
      properties: { data: { type: 'string' }, encoding: jsonSchemaOf(OutputEncodingSchema, 'output'), offset: { type: 'integer', minimum: 0 } },
      required: ['data', 'encoding', 'offset'],
    },
    LogEndEvent: { type: 'object', description: 'data of the `end` event: the final record', properties: { process: jsonSchemaOf(WireProcessSchema, 'output') }, required: ['process'] },
    LogErrorEvent: { type: 'object', description: 'data of an `error` event (for example the node went away)', properties: { code: ref('ErrorCode'), detail: { type: 'string' } }, required: ['code', 'detail'] },
  };
  for (const name of names) Object.assign(schemas, methodComponents(name, table[name]!));
  const mapping = Object.fromEntries(names.map((n) => [n, `#/components/schemas/${n}_request`]));
  const idParam = (name: string, what: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern: `^${what[0]}-[0-9a-f]{12}$` } });

  return {
    openapi: '3.1.0',
    info: {
      title: '@nodes server',
      version: options.version ?? '0.1.0',
      description:
        'Disposable machines (nodes) on a Docker engine. Every call is `POST /` with `{method, args, timestamp}`; the answer is `{request, result}` with `result.status` `success` or `failed`.',
    },
    paths: {
      '/': {
        post: {
          operationId: 'call',
          summary: `Call a method: ${names.join(', ')}`,
          'x-methods': Object.fromEntries(names.map((n) => [n, { success: table[n]!.success, failure: table[n]!.failure }])),
          requestBody: {
            required: true,
            content: json({ oneOf: names.map((n) => ref(`${n}_request`)), discriminator: { propertyName: 'method', mapping } }),
          },
          responses: { '200': { description: 'success', content: json({ oneOf: names.map((n) => ref(`${n}_response`)) }) }, ...failureResponses() },
        },
      },
      '/nodes/{node_id}/processes/{process_id}/logs': {
        get: {
          operationId: 'followLogs',
          summary: 'A process\'s output as Server-Sent Events: `stdout`, `stderr`, then `end` (or `error`)',
          parameters: [
            idParam('node_id', 'n'),
            idParam('process_id', 'p'),
            { name: 'follow', in: 'query', schema: { type: 'string', enum: ['0', '1', 'true', 'false'] }, description: 'keep the stream open until the process ends' },
            { name: 'stdout_offset', in: 'query', schema: { type: 'integer', minimum: 0 }, description: 'bytes of stdout already read' },
            { name: 'stderr_offset', in: 'query', schema: { type: 'integer', minimum: 0 }, description: 'bytes of stderr already read' },
            { name: 'encoding', in: 'query', schema: jsonSchemaOf(OutputEncodingSchema, 'output') },
            { name: 'Last-Event-ID', in: 'header', schema: { type: 'string', pattern: '^\\d+,\\d+$' }, description: 'resume after this event id' },
          ],
          responses: {
            '200': {
              description: 'events `stdout`/`stderr` (LogChunkEvent), then `end` (LogEndEvent) or `error` (LogErrorEvent)',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
              'x-events': { stdout: ref('LogChunkEvent'), stderr: ref('LogChunkEvent'), end: ref('LogEndEvent'), error: ref('LogErrorEvent') },
            },
            ...failureResponses(),
          },
        },
      },
      '/nodes/{node_id}/files': {
        parameters: [
          { name: 'node_id', in: 'path', required: true, schema: { type: 'string' }, description: 'a node id or name' },
          ...Object.entries(FileQuerySchema.shape).map(([name, schema]) => ({
            name,
            in: 'query',
            required: name === 'path',
            schema: jsonSchemaOf(schema, 'input'),
            ...(name === 'path' ? {} : { description: 'for a PUT' }),
          })),
        ],
        get: {
          operationId: 'readFileRaw',
          summary: "A file's exact bytes, streamed; its mode (octal) in `X-File-Mode`",
          responses: { '200': { description: 'the file', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }, ...failureResponses() },
        },
        put: {
          operationId: 'writeFileRaw',
          summary: 'Writes the body, exactly, streamed into the node (needs Content-Length; atomic as write_file)',
          requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          responses: {
            '200': {
              description: 'written',
              content: json({
                type: 'object',
                properties: { node_id: { type: 'string' }, file: { type: 'object', properties: { path: { type: 'string' }, size_bytes: { type: 'integer' }, mode: { type: 'integer' } } } },
              }),
            },
            ...failureResponses(),
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics: nodes_requests_total, nodes_request_duration_seconds, nodes_engine_call_duration_seconds, nodes_engine_call_errors_total, nodes_nodes, nodes_processes, nodes_pool_size, nodes_sse_followers',
          responses: { '200': { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/ui': {
        get: { operationId: 'dashboard', summary: 'The dashboard page (its script at /ui/app.js); served without the token, which the page asks for', security: [], responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } } },
      },
      '/openapi.json': {
        get: { operationId: 'openApi', summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } } },
      },
    },
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'needed when the server has NODES_TOKEN set' } },
    },
    security: [{}, { bearer: [] }],
  };
}
