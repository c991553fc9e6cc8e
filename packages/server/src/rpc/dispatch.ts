import type { Context } from 'koa';
import { NodeError, parseInput, type NodeManager } from '@nodes/core';
import type { RpcState } from '../middleware/errors.js';
import { RequestEnvelopeSchema } from './envelope.js';
import { METHODS, type RpcMethod } from './methods.js';

const TABLE: Readonly<Record<string, RpcMethod>> = METHODS;

/** How deep a request's JSON may nest; the spec's requests need 4 levels. */
export const MAX_REQUEST_DEPTH = 64;

/** Nesting depth of a JSON value, walked without recursion so that a hostile body cannot overflow the stack. */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, depth);
    if (max > MAX_REQUEST_DEPTH) return max;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return max;
}

/** Raw body text of a request, kept by the body parser so that invalid JSON can be echoed back. */
export type WithRawBody = { rawBody?: string };

/**
 * `POST /`: validates the spec's envelope, finds the method, validates its args with the method's schema, calls
 * core and answers `{request, result: {status: 'success', message, ...}}`. Failures are thrown to the failure
 * middleware, which answers in the same shape.
 * @throws {NodeError} `invalid_request` for a body that is not a JSON object, `unknown_method`,
 *   `validation_failed`, and whatever core throws.
 */
export async function dispatch(core: NodeManager, ctx: Context): Promise<void> {
  const state = ctx.state as RpcState;
  const body = (ctx.request as unknown as { body?: unknown }).body;
  if (depthOf(body) > MAX_REQUEST_DEPTH) {
    // Echoing it would overflow the stack of JSON.stringify: refuse it before it becomes our answer.
    throw new NodeError('invalid_request', `request is nested deeper than ${MAX_REQUEST_DEPTH} levels`);
  }
  state.request = body;
  const envelope = parseInput(RequestEnvelopeSchema, body, 'request');
  const method = Object.hasOwn(TABLE, envelope.method) ? TABLE[envelope.method] : undefined;
  if (!method) {
    throw new NodeError('unknown_method', `unknown method "${envelope.method}"; known: ${Object.keys(METHODS).join(', ')}`);
  }
  state.failure = method.failure;
  const args = parseInput(method.args, envelope.args ?? {}, `args of ${envelope.method}`);
  const extra = await method.run(core, args);
  ctx.status = 200;
  ctx.body = { request: body, result: { status: 'success', message: method.success, ...extra } };
}
