import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { TEST_IMAGE } from './engine.js';

/** The built server's entry point. */
export const SERVER_MAIN = fileURLToPath(new URL('../../../packages/server/dist/main.js', import.meta.url));

/** A free port on 127.0.0.1, from the kernel. */
export async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

/**
 * Starts `node packages/server/dist/main.js` on 127.0.0.1:`port` for `namespace` (test image, no pulls, warn
 * logs, plus `env`), and resolves once `ready` (a call to it) succeeds; rejects with its stderr if it exits or
 * does not answer within 20 s.
 */
export async function spawnServer(port: number, namespace: string, env: Record<string, string>, ready: () => Promise<unknown>): Promise<ChildProcess> {
  // As scripts/start and pnpm start run it.
  const child = spawn(process.execPath, ['--max-semi-space-size=1', '--optimize-for-size', SERVER_MAIN], {
    env: {
      ...process.env,
      NODES_PORT: String(port),
      NODES_HOST: '127.0.0.1',
      NODES_NAMESPACE: namespace,
      NODES_DEFAULT_IMAGE: TEST_IMAGE,
      NODES_PULL_POLICY: 'never',
      NODES_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  for (const deadline = Date.now() + 20_000; ; ) {
    try {
      await ready();
      return child;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
