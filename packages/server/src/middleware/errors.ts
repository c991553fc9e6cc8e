import type { Context, Next } from 'koa';
import { NodeError, type Logger } from '@nodes/core';

/** HTTP status of a failure: 4xx for the caller's mistakes, 5xx for the engine's. */
export function httpStatusOf(code: string): number {
  switch (code) {
    case 'invalid_request':
    case 'validation_failed':
    case 'unknown_method':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'node_not_found':
    case 'process_not_found':
    case 'not_found':
      return 404;
    case 'too_large':
      return 413;
    case 'conflict':
    case 'wrong_state':
      return 409;
    case 'image_unavailable':
      return 422;
    case 'limit_exceeded':
      return 429;
    case 'engine_unavailable':
      return 503;
    case 'timeout':
      return 504;
    case 'engine_error':
      return 502;
    default:
      return 500;
  }
}

/**
 * A request the server cannot route or read, with the HTTP status that says why: 404 no such route, 405 method
 * not allowed on it, 413 body too large, 415 a browser's body that is not `application/json`, 400 otherwise.
 * Its wire code is `invalid_request`.
 */
export class RequestError extends NodeError {
  override readonly name = 'RequestError';
  constructor(
    message: string,
    readonly httpStatus: 400 | 404 | 405 | 411 | 413 | 415 = 400,
  ) {
    super('invalid_request', message);
  }
}

/** What the failure middleware needs to know of the request to answer in the spec's shape. */
export interface RpcState {
  /** the request as received (parsed JSON, or the raw text when it was not JSON) */
  request?: unknown;
  /** the spec's failure message of the method, once the method is known */
  failure?: string;
}

/**
 * The first middleware: turns any thrown error into the spec's `failed` answer. A `NodeError` keeps its code and
 * message; anything else is `internal_error`, with the stack logged and never sent. The body is never HTML.
 */
export function failureEnvelope(logger: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new RequestError(`no route for ${ctx.method} ${ctx.path}: send the spec's requests with POST /`, 404);
      }
    } catch (error) {
      const state = ctx.state as RpcState;
      let code = 'internal_error';
      let detail = 'internal error';
      if (error instanceof NodeError) {
        code = error.code;
        detail = error.message;
      } else {
        logger.error({ err: error instanceof Error ? error.stack : String(error), path: ctx.path }, 'internal error');
      }
      ctx.status = error instanceof RequestError ? error.httpStatus : httpStatusOf(code);
      ctx.type = 'application/json';
      ctx.body = {
        request: state.request ?? null,
        result: { status: 'failed', message: state.failure ?? 'request failed', error: { code, detail } },
      };
    }
  };
}
