import type { Context, Next } from 'koa';
import type { Logger } from '@nodes/core';

/** One info line per request: HTTP method, path, RPC method, status and duration (ms). Never bodies: they hold env values. */
export function requestLog(logger: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = Date.now();
    try {
      await next();
    } finally {
      const request = (ctx.state as { request?: { method?: unknown } }).request;
      logger.info(
        {
          http: `${ctx.method} ${ctx.path}`,
          method: typeof request?.method === 'string' ? request.method : undefined,
          status: ctx.status,
          durationMs: Date.now() - started,
        },
        'request',
      );
    }
  };
}
