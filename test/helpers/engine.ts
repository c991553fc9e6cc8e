import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import type { ExecutionContext, TestFn } from 'ava';
import { createNodeManager, LABELS, type NodeInfo, type NodeManager, type NodesOptions } from '@nodes/core';
import { runLabels } from './test-runs.js';

export { TEST_OWNER_LABEL, TEST_RUN_ID, TEST_RUN_LABEL } from './test-runs.js';

/**
 * The engine under test, as `./scripts/test` names it (`NODES_TEST_ENGINES`): `docker` or `podman`. The few
 * assertions on what one engine does and the other does not (Docker refuses more CPUs than the machine has,
 * Podman accepts them) look at it.
 */
export const TEST_ENGINE = process.env.NODES_TEST_ENGINE === 'podman' ? 'podman' : 'docker';

/** The image nodes use in tests: built offline by scripts/ensure-image. */
export const TEST_IMAGE = process.env.NODES_DEFAULT_IMAGE ?? 'busybox:latest';

/** A dockerode client for checking, from outside, what the code under test did. */
export const docker = new Docker();

/** A fresh namespace for one test file, so files running in parallel never see each other's nodes. */
export function testNamespace(file: string): string {
  return `test-${file}-${randomBytes(3).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_.-]/g, '-');
}

/**
 * Labels every container and network the tests make carries: this run's id and its owner mark, so that the
 * sweeps of `./scripts/test` remove them once this test process is gone, and never while it runs.
 */
export const testLabels = (): Record<string, string> => runLabels();

/**
 * A manager on the real engine in its own namespace. `NODES_NETWORK_POOL` sets where its networks' subnets come
 * from: `./scripts/test` gives Podman a pool of its own, so that its bridges never share a subnet with Docker's.
 */
export function testManager(namespace: string, options: NodesOptions = {}): NodeManager {
  const networkPool = process.env.NODES_NETWORK_POOL;
  return createNodeManager({ namespace, defaultImage: TEST_IMAGE, pullPolicy: 'never', networkLabels: runLabels(), ...(networkPool ? { networkPool } : {}), ...options });
}

/**
 * A manager with a warm pool of `size` for `spec` in a namespace of its own (named after `file`), closed and
 * swept when the test ends.
 */
export function pooledManager(
  t: ExecutionContext,
  file: string,
  spec: { labels: Record<string, string> },
  size = 1,
  options: NodesOptions = {},
): { namespace: string; manager: NodeManager } {
  const namespace = testNamespace(file);
  const manager = testManager(namespace, { poolSize: size, poolSpecs: [spec], ...options });
  t.teardown(async () => {
    await manager.close();
    await sweepNamespace(namespace);
  });
  return { namespace, manager };
}

/** Fails fast, with a clear message, when no engine answers. */
export async function requireEngine(): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(`no Docker engine answers (${String(error)}): run ./scripts/test, which starts one`);
  }
}

/**
 * Removes every container, then every network, of a namespace and of the namespaces named after it
 * (`<namespace>-health`…): the `after.always` sweep.
 */
export async function sweepNamespace(namespace: string): Promise<void> {
  const mine = (labels: Record<string, string> | undefined) => {
    const ns = labels?.[LABELS.namespace] ?? '';
    return ns === namespace || ns.startsWith(`${namespace}-`);
  };
  const filters = JSON.stringify({ label: [LABELS.namespace] });
  const list = (await docker.listContainers({ all: true, filters })).filter((c) => mine(c.Labels));
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  const networks = (await docker.listNetworks({ filters })).filter((n) => mine(n.Labels));
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
}

/** The engine's networks of a namespace, found by label from outside. */
export async function networksOfNamespace(namespace: string): Promise<Docker.NetworkInspectInfo[]> {
  return docker.listNetworks({ filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`] }) });
}

/** Containers of a node, found by label from outside. */
export async function containersOfNode(namespace: string, nodeId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`, `${LABELS.nodeId}=${nodeId}`] }),
  });
}

/** Runs a command in a container with `docker exec` and returns its stdout (stderr dropped), to check from outside. */
export async function execIn(containerId: string, cmd: string[]): Promise<{ exitCode: number; stdout: string }> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  const { PassThrough } = await import('node:stream');
  const out = new PassThrough().on('data', (b: Buffer) => chunks.push(b));
  docker.modem.demuxStream(stream, out, new PassThrough());
  await new Promise((resolve) => stream.on('end', resolve));
  for (;;) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return { exitCode: info.ExitCode, stdout: Buffer.concat(chunks).toString('utf8') };
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Sets up a test file on the real engine: fails fast without an engine, gives it a namespace and a manager, and
 * sweeps the namespace's containers after all tests, even failed ones.
 */
export function useEngine(test: TestFn, file: string, options: NodesOptions = {}): { namespace: string; manager: NodeManager } {
  const namespace = testNamespace(file);
  const manager = testManager(namespace, options);
  test.before(requireEngine);
  test.after.always(() => sweepNamespace(namespace));
  return { namespace, manager };
}

/** Creates a labelled node and removes it when the test ends, pass or fail. */
export async function nodeFor(t: ExecutionContext, manager: NodeManager, spec: Record<string, unknown> = {}): Promise<NodeInfo> {
  const node = await manager.createNode({ ...spec, labels: { ...testLabels(), ...(spec.labels as object) } });
  t.teardown(() => manager.removeNode(node.nodeId).catch(() => undefined));
  return node;
}
