import type { Context, Next } from 'koa';
import { METHODS } from '../rpc/methods.js';
import type { ServerMetrics } from './server-metrics.js';

/**
 * The wire method of a `POST /` (from the parsed body; `unknown` for a name the table lacks and `invalid` for no
 * name, so that callers cannot grow the series without bound), else the route as `VERB /path` with ids left out.
 */
function methodLabel(ctx: Context): string {
  const method = (ctx.request as unknown as { body?: { method?: unknown } }).body?.method;
  if (ctx.path === '/' && ctx.method === 'POST') {
    if (typeof method !== 'string') return 'invalid';
    return Object.hasOwn(METHODS, method) ? method : 'unknown';
  }
  const route = (ctx as unknown as { _matchedRoute?: unknown })._matchedRoute;
  return `${ctx.method} ${typeof route === 'string' ? route : ctx.path === '/ui' || ctx.path === '/ui/app.js' ? ctx.path : 'unrouted'}`;
}

/**
 * Counts and times every request by wire method (or route) and HTTP status, once its answer is sent (an SSE
 * stream counts when it closes), and keeps `nodes_sse_followers` at the number of log streams open.
 */
export function measureRequests(metrics: ServerMetrics) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = performance.now();
    const record = () => {
      const labels = { method: methodLabel(ctx), status: String(ctx.res.statusCode) };
      metrics.requests.inc(labels);
      metrics.requestDuration.observe(labels, (performance.now() - started) / 1000);
    };
    try {
      await next();
    } finally {
      if (ctx.respond === false) {
        // A stream answered by its handler: a follower until the connection closes.
        metrics.sseFollowers.inc();
        ctx.res.once('close', () => {
          metrics.sseFollowers.dec();
          record();
        });
      } else {
        ctx.res.once('finish', record);
      }
    }
  };
}
