import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import cors from '@koa/cors';
import { silentLogger, type Logger, type NodeManager } from '@nodes/core';
import { checkCaller, fromBrowser, isAllowedCrossOrigin, requireToken, type AccessOptions } from './middleware/access.js';
import { RequestError, failureEnvelope } from './middleware/errors.js';
import { requestLog } from './middleware/request-log.js';
import { dispatch } from './rpc/dispatch.js';
import { streamLogs } from './sse/logs-stream.js';
import { FILES_ROUTE, downloadFile, uploadFile } from './files/file-routes.js';
import { openApiDocument } from './openapi/document.js';
import { measureRequests } from './metrics/middleware.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { serveUi } from './ui/serve-ui.js';

export { answerClientErrors } from './client-errors.js';
export type { AccessOptions } from './middleware/access.js';
export { openApiDocument } from './openapi/document.js';
export { ServerMetrics } from './metrics/server-metrics.js';
export { METHODS, type RpcMethod, type MethodName } from './rpc/methods.js';
export type { WireNode, WireProcess, WireOutput, WireHealth } from './rpc/wire.js';

/**
 * Options of `createApp`. `bodyLimitBytes` caps a request body (default 1 MiB); `access` says who may call
 * (default: loopback `Host` names only, no cross-origin page, no token).
 */
export interface AppOptions {
  logger?: Logger;
  bodyLimitBytes?: number;
  access?: AccessOptions;
  /**
   * The Prometheus metrics served at `GET /metrics`; pass the same object's `port` to `createNodeManager` so
   * that engine calls and the pool are measured too. Default: a fresh one counting requests and nodes only.
   */
  metrics?: ServerMetrics;
  /** how often a quiet SSE stream sends a comment line, so that proxies keep it open (ms, default 15000) */
  sseHeartbeatMs?: number;
}

const NOT_ALLOWED = 'HTTP method not allowed on this route: requests go with POST /, logs with GET';

/**
 * The HTTP face of a node manager: `POST /` speaks the spec's `{method, args, timestamp}` requests and answers
 * `{request, result}`; `GET /nodes/:node_id/processes/:process_id/logs` streams output as Server-Sent Events.
 * Holds no logic of its own; neither listens nor reads the environment (see `main.ts`).
 */
export function createApp(core: NodeManager, options: AppOptions = {}): Koa {
  const logger = options.logger ?? silentLogger;
  const bodyLimitBytes = options.bodyLimitBytes ?? 1024 * 1024;
  const access = options.access ?? {};
  const app = new Koa();
  const router = new Router();
  const LOGS = '/nodes/:node_id/processes/:process_id/logs';
  router.post('/', (ctx) => dispatch(core, ctx));
  router.get(LOGS, (ctx) => streamLogs(core, ctx, { heartbeatMs: options.sseHeartbeatMs }));
  router.get(FILES_ROUTE, (ctx) => downloadFile(core, ctx));
  router.put(FILES_ROUTE, (ctx) => uploadFile(core, ctx));
  let openApi: Record<string, unknown> | undefined;
  router.get('/openapi.json', (ctx) => {
    ctx.body = openApi ??= openApiDocument();
  });
  const metrics = (options.metrics ?? new ServerMetrics()).watch(core);
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  app.use(measureRequests(metrics));
  app.use(requestLog(logger));
  app.use(failureEnvelope(logger));
  app.use(checkCaller(access));
  app.use(serveUi());
  // Pages of an allowed origin get CORS answers (preflights end here, before the token: browsers send none on them).
  app.use(
    cors({
      origin: (ctx) => (isAllowedCrossOrigin(access, ctx.get('Origin')) ? ctx.get('Origin') : ''),
      allowMethods: ['GET', 'HEAD', 'POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'Authorization', 'Last-Event-ID'],
      maxAge: 600,
    }),
  );
  app.use(requireToken(access.token));
  app.use(async (ctx, next) => {
    // A browser's body must say it is JSON: text/plain, forms and multipart are "simple" types a page may send
    // cross-site without a preflight, so they are never read as requests when a browser sends them.
    if (fromBrowser(ctx) && ctx.method === 'POST' && ctx.request.is('application/json', '+json') === false) {
      throw new RequestError('a browser must send requests as Content-Type: application/json', 415);
    }
    await next();
  });
  app.use(
    bodyParser({
      enableTypes: ['json'],
      // curl -d sends a form content type: read bodies of non-browser clients as JSON, as the spec's requests are.
      // A file upload (PUT) is bytes, streamed to the node: never parsed.
      detectJSON: (ctx) => !fromBrowser(ctx) && ctx.method !== 'PUT',
      jsonLimit: bodyLimitBytes,
      onError(error) {
        const status = (error as { status?: number }).status;
        if (status === 413) throw new RequestError(`request body is larger than ${bodyLimitBytes} bytes`, 413);
        const reason = (error as Error).message;
        // Strict JSON parsing takes objects and arrays only: `null` or `"x"` are JSON, but not a request.
        if (/only supports object and array/.test(reason)) throw new RequestError('request body must be a JSON object');
        throw new RequestError(`request body is not valid JSON: ${reason}`);
      },
    }),
  );
  app.use(async (ctx, next) => {
    await next();
    // allowedMethods sets `Allow` with 405 (501 for verbs no route knows) and with a 200 to OPTIONS: answer
    // those as 405 in the spec's shape and as 204, `Allow` kept and naming OPTIONS too.
    const allow = ctx.response.get('Allow');
    if (allow) ctx.set('Allow', `${allow}, OPTIONS`);
    if (ctx.status === 405 || ctx.status === 501) throw new RequestError(NOT_ALLOWED, 405);
    if (ctx.method === 'OPTIONS' && allow) {
      ctx.body = null;
      ctx.status = 204;
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
