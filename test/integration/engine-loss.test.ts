import { execFileSync, execSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import Docker from 'dockerode';
import { EngineUnavailableError, LABELS, createNodeManager, type NodeManager } from '@nodes/core';
import { createApp } from '@nodes/server';
import { TEST_IMAGE, testLabels, testNamespace } from '../helpers/engine.js';

/**
 * A second engine for this file only: its own dockerd (with its own managed containerd under the exec root) in
 * its own network namespace, so that stopping it never touches the main engine. `--bridge=none` in the host's
 * network namespace would delete the host's docker0: it runs only inside the new one.
 */
const ID = `nodes-test-${randomBytes(3).toString('hex')}`;
const NETNS = ID;
const ROOT = `/tmp/${ID}`;
const SOCKET = `/run/${ID}.sock`;
const ENDPOINT = `unix://${SOCKET}`;
const ENGINE_TIMEOUT_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why this file cannot run here, or undefined when it can. */
function unsupported(): string | undefined {
  if (process.getuid?.() !== 0) return 'a second dockerd needs root';
  for (const tool of ['ip', 'nsenter', 'dockerd', 'docker']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

const reason = unsupported();
// In CI (CI=true, as root, set up by scripts/test) these tests must run: a skip there would be a test that cannot fail.
if (reason && process.env.CI) throw new Error(`engine-loss tests cannot run in CI: ${reason}`);
if (reason) console.warn(`engine-loss tests skipped: ${reason}`);
const engineTest = reason ? test.skip : test.serial;

let dockerd: ReturnType<typeof spawn> | undefined;
let dockerdStarts = 0;

/** Starts the second dockerd (again, on the same data root) and waits until it answers. */
async function startEngine(): Promise<void> {
  const log = openSync(`${ROOT}/dockerd-${++dockerdStarts}.log`, 'a');
  dockerd = spawn(
    'nsenter',
    [
      `--net=/run/netns/${NETNS}`,
      'dockerd',
      '--host', ENDPOINT,
      '--data-root', `${ROOT}/data`,
      '--exec-root', `${ROOT}/exec`,
      '--pidfile', `${ROOT}/pid`,
      '--bridge=none',
      '--iptables=false',
    ],
    { stdio: ['ignore', log, log] },
  );
  const client = new Docker({ socketPath: SOCKET });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.ping();
      return;
    } catch (error) {
      if (dockerd.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the second dockerd did not start (${String(error)}); see ${ROOT}/dockerd-${dockerdStarts}.log`);
      }
      await sleep(200);
    }
  }
}

/** Stops the second dockerd with SIGTERM (SIGKILL after 20 s) and waits for it to exit. */
async function stopEngine(): Promise<void> {
  const proc = dockerd;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  // nsenter execs dockerd, so the child's pid is dockerd's.
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

let manager: NodeManager;
let url: string;
let server: http.Server | undefined;
const namespace = testNamespace('engine-loss');

const call = async (method: string, args: Record<string, unknown> = {}) => {
  const started = Date.now();
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method, args }) });
  const body = (await response.json()) as { result: Record<string, any> };
  return { status: response.status, result: body.result, ms: Date.now() - started };
};

if (!reason) {
  test.before(async () => {
    mkdirSync(ROOT, { recursive: true });
    execFileSync('ip', ['netns', 'add', NETNS]);
    execFileSync('ip', ['netns', 'exec', NETNS, 'ip', 'link', 'set', 'lo', 'up']);
    await startEngine();
    execSync(`docker save ${TEST_IMAGE} | docker -H ${ENDPOINT} load`, { stdio: 'ignore' });
    // The second engine has only the test image: no tools image for the host guard, which this test is not about.
    manager = createNodeManager({
      namespace,
      dockerHost: ENDPOINT,
      engineTimeoutMs: ENGINE_TIMEOUT_MS,
      defaultImage: TEST_IMAGE,
      pullPolicy: 'never',
      allowHostAccess: true,
    });
    server = http.createServer(createApp(manager).callback()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  test.after.always(async () => {
    server?.close();
    try {
      if (dockerd && dockerd.exitCode === null) {
        const client = new Docker({ socketPath: SOCKET });
        const list = await client.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`] }) });
        await Promise.all(list.map((c) => client.getContainer(c.Id).remove({ force: true })));
      }
    } finally {
      await stopEngine();
      // A dockerd that died hard can leave mounts under its roots; unmount them before removing the tree.
      for (const line of readFileSync('/proc/mounts', 'utf8').split('\n').reverse()) {
        const mountpoint = line.split(' ')[1];
        if (mountpoint?.startsWith(ROOT)) execFileSync('umount', ['-l', mountpoint], { stdio: 'ignore' });
      }
      execFileSync('ip', ['netns', 'del', NETNS], { stdio: 'ignore' });
      rmSync(ROOT, { recursive: true, force: true });
      rmSync(SOCKET, { force: true });
    }
  });
}

engineTest('when the engine goes away, calls fail fast with engine_unavailable and health says bad; when it is back, all answers again', async (t) => {
  t.timeout(120_000);
  const created = await call('create_node', { labels: testLabels() });
  t.is(created.status, 200, JSON.stringify(created.result));
  const nodeId = created.result.node_id as string;

  await stopEngine();
  t.false(existsSync(`${ROOT}/pid`), 'the second dockerd is gone');

  for (const [method, args] of [
    ['get_node', { node_id: nodeId }],
    ['list_nodes', {}],
    ['create_node', { labels: testLabels() }],
    ['reset_node', { node_id: nodeId }],
    ['run_process_on_node', { node_id: nodeId, config: { name: 'hi', command: 'echo hi' } }],
    ['remove_node', { node_id: nodeId }],
  ] as const) {
    const answer = await call(method, args);
    t.log(`${method} failed after ${answer.ms} ms`);
    t.is(answer.status, 503, method);
    t.is(answer.result.error?.code, 'engine_unavailable', method);
    t.true(String(answer.result.error?.detail).includes(ENDPOINT), `${method}: ${answer.result.error?.detail}`);
    t.true(answer.ms < ENGINE_TIMEOUT_MS + 1000, `${method} took ${answer.ms} ms`);
  }
  await t.throwsAsync(manager.getNode(nodeId), { instanceOf: EngineUnavailableError, message: new RegExp(ENDPOINT) });

  const health = await call('get_health');
  t.is(health.status, 200);
  t.is(health.result.health, 'bad');
  t.is(JSON.stringify(health.result).includes('engine_unavailable'), true, JSON.stringify(health.result));
  t.true(health.ms < ENGINE_TIMEOUT_MS + 1000);

  await startEngine();
  const back = await call('get_node', { node_id: nodeId });
  t.is(back.status, 200, JSON.stringify(back.result));
  // The engine stopped the node's container when it shut down; a reset brings the node back.
  t.not(back.result.node.state, 'running');
  const reset = await call('reset_node', { node_id: nodeId });
  t.is(reset.status, 200, JSON.stringify(reset.result));
  t.is(reset.result.node.state, 'running');
  const ran = await call('run_process_on_node', { node_id: nodeId, config: { name: 'hi', command: 'echo hi' } });
  t.is(ran.status, 200, JSON.stringify(ran.result));
  t.is((await call('get_health')).result.health, 'good');
  t.is((await call('remove_node', { node_id: nodeId })).status, 200);
});

test('a stalled engine (accepts, never answers) fails calls within engineTimeoutMs with engine_unavailable', async (t) => {
  const socketPath = `/tmp/nodes-test-stall-${randomBytes(3).toString('hex')}.sock`;
  const held: net.Socket[] = [];
  const stalled = net.createServer((socket) => held.push(socket)).listen(socketPath);
  await once(stalled, 'listening');
  t.teardown(() => {
    for (const s of held) s.destroy();
    stalled.close();
    rmSync(socketPath, { force: true });
  });
  const timeoutMs = 1000;
  const stuck = createNodeManager({ namespace: testNamespace('stalled'), dockerHost: `unix://${socketPath}`, engineTimeoutMs: timeoutMs });

  let started = Date.now();
  await t.throwsAsync(stuck.listNodes(), {
    instanceOf: EngineUnavailableError,
    message: `engine at unix://${socketPath} did not answer within ${timeoutMs} ms during list containers`,
  });
  const elapsedMs = Date.now() - started;
  t.log(`list_nodes failed after ${elapsedMs} ms`);
  t.true(elapsedMs >= timeoutMs && elapsedMs < timeoutMs + 500, `${elapsedMs} ms`);

  started = Date.now();
  await t.throwsAsync(stuck.createNode({ labels: testLabels() }), { instanceOf: EngineUnavailableError });
  t.true(Date.now() - started < 2 * timeoutMs + 500, 'create fails within its engine calls\' deadlines');

  started = Date.now();
  const health = await stuck.getHealth();
  t.is(health.health, 'bad');
  t.like(health.reasons[0], { kind: 'engine', code: 'engine_unavailable' });
  t.true(Date.now() - started < timeoutMs + 500);
});
