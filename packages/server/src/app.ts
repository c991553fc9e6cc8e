import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { silentLogger, type Logger, type NodeManager } from '@nodes/core';
import { RequestError, failureEnvelope } from './middleware/errors.js';
import { requestLog } from './middleware/request-log.js';
import { dispatch } from './rpc/dispatch.js';
import { streamLogs } from './sse/logs-stream.js';

/** Options of `createApp`. `bodyLimitBytes` caps a request body (default 1 MiB). */
export interface AppOptions {
  logger?: Logger;
  bodyLimitBytes?: number;
}

/**
 * The HTTP face of a node manager: `POST /` speaks the spec's `{method, args, timestamp}` requests and answers
 * `{request, result}`; `GET /nodes/:node_id/processes/:process_id/logs` streams output as Server-Sent Events.
 * Holds no logic of its own; neither listens nor reads the environment (see `main.ts`).
 */
export function createApp(core: NodeManager, options: AppOptions = {}): Koa {
  const logger = options.logger ?? silentLogger;
  const bodyLimitBytes = options.bodyLimitBytes ?? 1024 * 1024;
  const app = new Koa();
  const router = new Router();
  router.post('/', (ctx) => dispatch(core, ctx));
  router.get('/nodes/:node_id/processes/:process_id/logs', (ctx) => streamLogs(core, ctx));
  app.use(requestLog(logger));
  app.use(failureEnvelope(logger));
  app.use(
    bodyParser({
      enableTypes: ['json'],
      // curl -d sends form content-type by default: read every body as JSON, as the spec's requests are.
      detectJSON: () => true,
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
  app.use(router.routes());
  app.use(
    router.allowedMethods({
      throw: true,
      methodNotAllowed: () => new RequestError('HTTP method not allowed on this route: requests go with POST /, logs with GET', 405),
      notImplemented: () => new RequestError('HTTP method not allowed on this route: requests go with POST /, logs with GET', 405),
    }),
  );
  return app;
}
