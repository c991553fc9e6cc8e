import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import type { NodeManager } from '@nodes/core';
import { createApp, type AppOptions } from '@nodes/server';

/** The app of `manager` on an ephemeral port of 127.0.0.1, closed when the test ends; returns its base URL. */
export async function serveApp(t: ExecutionContext, manager: NodeManager, options: AppOptions = {}): Promise<string> {
  const server = http.createServer(createApp(manager, options).callback());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
