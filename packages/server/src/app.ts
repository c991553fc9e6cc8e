import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { NodeError, silentLogger, type Logger, type NodeManager } from '@nodes/core';
import { failureEnvelope } from './middleware/errors.js';
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
      jsonLimit: options.bodyLimitBytes ?? 1024 * 1024,
      onError(error) {
        const status = (error as { status?: number }).status;
        throw new NodeError(
          'invalid_request',
          status === 413 ? 'request body is too large' : `request body is not valid JSON: ${(error as Error).message}`,
        );
      },
    }),
  );
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true, methodNotAllowed: () => new NodeError('invalid_request', 'method not allowed on this route') }));
  return app;
}
