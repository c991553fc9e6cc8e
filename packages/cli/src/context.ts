import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodesClient } from '@nodes/client';

/** Options every command takes: where the server is, how to print, and whether to use the library in-process. */
export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
  local?: boolean;
}

/** A client for one command, and how to let go of what it holds. */
export interface Session {
  client: NodesClient;
  close(): Promise<void>;
}

/**
 * The client of a command: the server at `--url` (else `NODES_URL`, else http://127.0.0.1:8080) with `--token`
 * (else `NODES_TOKEN`); with `--local`, the library itself, served in this process on a loopback port of its own
 * for the command's lifetime, so that both paths answer alike (the same method table, the same SSE route).
 */
export async function connect(options: GlobalOptions): Promise<Session> {
  if (!options.local) return { client: new NodesClient({ url: options.url, token: options.token }), close: async () => undefined };
  // Loaded only here: the remote path never pays for dockerode and Koa.
  const [{ createNodeManager }, { createApp }] = await Promise.all([import('@nodes/core'), import('@nodes/server')]);
  const server = createServer(createApp(createNodeManager()).callback());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    client: new NodesClient({ url, token: '' }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
