/**
 * `pnpm run bench`: the product against the raw Engine API (dockerode), round by round in one process on the
 * same engine, so both meet the same load. Prints per operation the raw median, the product median and their
 * ratio; exec events per second while processes are idly waited on and followed; 100 concurrent create_node
 * over HTTP against 100 concurrent raw create+starts; a server's RSS holding many nodes and process records.
 * Figures, not a pass/fail. Options (env): BENCH_ROUNDS (15), BENCH_CONCURRENT (100), BENCH_RSS_NODES (200),
 * BENCH_RSS_PROCESSES (10 per node), BENCH_IDLE_S (10), BENCH_ONLY (a comma-separated subset of the parts,
 * rounds,memory,idle,concurrent,rss by default; exec: exec echo hi alone).
 */
import type { ChildProcess } from 'node:child_process';
import { once, setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { PassThrough } from 'node:stream';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { KEEPALIVE_COMMAND, createNodeManager, type NodeManager } from '@nodes/core';
import { sweepNamespace, testLabels, TEST_IMAGE } from '../helpers/engine.js';
import { freePort, spawnServer } from '../helpers/server-process.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ROUNDS = env('BENCH_ROUNDS', 15);
const CONCURRENT = env('BENCH_CONCURRENT', 100);
const RSS_NODES = env('BENCH_RSS_NODES', 200);
const RSS_PROCESSES = env('BENCH_RSS_PROCESSES', 10);
const IDLE_S = env('BENCH_IDLE_S', 10);

const docker = new Docker();
const labels = testLabels();
const stamp = `${process.pid}-${Date.now().toString(36)}`;
const warmNs = `bench-warm-${stamp}`;
const coldNs = `bench-cold-${stamp}`;
const rawLabels = { ...labels, 'io.nodes.namespace': `bench-raw-${stamp}` };
const times = new Map<string, number[]>();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (ms: number) => ms.toFixed(1).padStart(8);

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await fn();
  (times.get(what) ?? times.set(what, []).get(what)!).push(performance.now() - started);
  return result;
}

/**
 * The raw side: what the product's node container is, made with dockerode alone (same image, init, limits), on
 * a user-defined bridge network of its own as nodes are (Docker's default bridge is cheaper to join: its
 * figure is printed too).
 */
let rawNetwork = '';
async function rawCreateStart(network = rawNetwork): Promise<Docker.Container> {
  const c = await docker.createContainer({
    Image: TEST_IMAGE,
    Cmd: KEEPALIVE_COMMAND,
    Labels: rawLabels,
    HostConfig: {
      Init: true,
      Memory: 512 * 2 ** 20,
      MemorySwap: 512 * 2 ** 20,
      NanoCpus: 1e9,
      PidsLimit: 1024,
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: network || 'bridge',
    },
  });
  await c.start();
  return c;
}

/** One raw exec run to its exit: create, start attached, demultiplex, inspect for the exit code. */
async function rawExec(c: Docker.Container): Promise<string> {
  const exec = await c.exec({ Cmd: ['sh', '-c', 'echo hi'], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const sink = new PassThrough().on('data', (b: Buffer) => out.push(b));
  docker.modem.demuxStream(stream, sink, new PassThrough());
  await new Promise((r) => stream.on('end', r));
  for (;;) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return Buffer.concat(out).toString();
  }
}

/**
 * Each timed operation starts on a quiet engine: the warm manager's pool full and its refill done, so that no
 * refill runs beside any operation, the raw side's included (a raw call never has one beside it).
 */
/** Waits until a container is removed (an answered reset removes its old one in the background). */
async function gone(containerId: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const c = await docker.getContainer(containerId).inspect().catch(() => undefined);
    if (!c) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function rounds(warm: NodeManager, cold: NodeManager): Promise<void> {
  for (let i = 0; i < ROUNDS; i++) {
    await warm.warmUp();
    const onBridge = await timed('raw create+start, default bridge', () => rawCreateStart('bridge'));
    await onBridge.remove({ force: true });
    let raw = await timed('raw create+start', () => rawCreateStart());
    const w = await timed('create warm', () => warm.createNode({ labels }));
    await warm.warmUp();
    const c = await timed('create cold', () => cold.createNode({ labels }));
    await timed('raw remove+create+start', async () => {
      await raw.remove({ force: true });
      raw = await rawCreateStart();
    });
    await timed('reset warm', () => warm.resetNode(w.nodeId));
    // The old container is removed after the answer, off the request path: let that end too.
    await gone(w.containerId);
    await warm.warmUp();
    await timed('reset cold', () => cold.resetNode(c.nodeId));
    await timed('raw exec echo hi', () => rawExec(raw));
    await timed('run-and-wait echo hi (exec)', () => warm.exec(w.nodeId, { command: 'echo hi' }));
    await Promise.all([raw.remove({ force: true }), warm.removeNode(w.nodeId), cold.removeNode(c.nodeId)]);
  }
}

/**
 * `exec echo hi` alone, round by round on one node and one raw container, without the creates and resets of
 * `rounds` (`BENCH_ONLY=exec`): the same pair of figures as there, from more rounds in less time; plus an
 * exec of `true` with the same launch overhead, to show what the supervisor's own work costs.
 */
async function execRounds(warm: NodeManager): Promise<void> {
  const raw = await rawCreateStart();
  const node = await warm.createNode({ labels });
  try {
    for (let i = 0; i < 2 * ROUNDS; i++) {
      await timed('exec raw', () => rawExec(raw));
      await timed('exec product', () => warm.exec(node.nodeId, { command: 'echo hi' }));
      await timed('exec product true', () => warm.exec(node.nodeId, { command: 'true' }));
    }
  } finally {
    await Promise.all([raw.remove({ force: true }), warm.removeNode(node.nodeId)]);
  }
  const r = median(times.get('exec raw') ?? []);
  const p = median(times.get('exec product') ?? []);
  const t = median(times.get('exec product true') ?? []);
  console.log(`\nexec alone, ${2 * ROUNDS} rounds, medians: raw echo hi ${fmt(r)} ms, product echo hi ${fmt(p)} ms (${(p / r).toFixed(2)}x), product true ${fmt(t)} ms`);
}

function printRounds(): void {
  console.log(`\n(raw create+start on Docker's default bridge instead: ${fmt(median(times.get('raw create+start, default bridge') ?? []))} ms)`);
  const pairs: Array<[string, string, string]> = [
    ['create_node, warm pool', 'create warm', 'raw create+start'],
    ['create_node, cold', 'create cold', 'raw create+start'],
    ['reset_node, warm pool', 'reset warm', 'raw remove+create+start'],
    ['reset_node, cold', 'reset cold', 'raw remove+create+start'],
    ['exec echo hi (run+wait)', 'run-and-wait echo hi (exec)', 'raw exec echo hi'],
  ];
  console.log(`\n${ROUNDS} rounds, medians in ms`);
  console.log(`${'operation'.padEnd(26)} ${'raw'.padStart(8)} ${'product'.padStart(8)}   ratio`);
  for (const [label, product, raw] of pairs) {
    const r = median(times.get(raw) ?? []);
    const p = median(times.get(product) ?? []);
    console.log(`${label.padEnd(26)} ${fmt(r)} ${fmt(p)}   ${(p / r).toFixed(2)}x`);
  }
}

/** exec_create events per second on the engine while 20 waiters and 20 followers sit on quiet processes. */
async function idleExecRate(manager: NodeManager): Promise<void> {
  const node = await manager.createNode({ labels });
  try {
    const procs = await Promise.all([...Array(20).keys()].map(() => manager.runProcess(node.nodeId, { command: 'sleep 600' })));
    const abort = new AbortController();
    setMaxListeners(64, abort.signal);
    const waits = procs.map((p) => manager.waitProcess(node.nodeId, p.processId, { timeoutMs: (IDLE_S + 30) * 1000 }).catch(() => undefined));
    const follows = procs.map(async (p) => {
      try {
        for await (const _ of manager.followOutput(node.nodeId, p.processId, {}, abort.signal)) void _;
      } catch {
        // Ended by the abort below.
      }
    });
    await new Promise((r) => setTimeout(r, 1000));
    const events = (await docker.getEvents({ filters: JSON.stringify({ event: ['exec_create'] }) })) as NodeJS.ReadableStream & { destroy(): void };
    let count = 0;
    events.on('data', (chunk: Buffer) => (count += chunk.toString().split('\n').filter((l) => l.includes(node.containerId)).length));
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    events.destroy();
    console.log(`\nidle: 20 waiters + 20 followers on quiet processes: ${(count / IDLE_S).toFixed(2)} exec_create/s over ${IDLE_S} s`);
    abort.abort();
    await Promise.all(procs.map((p) => manager.killProcess(node.nodeId, p.processId, { graceMs: 500 }).catch(() => undefined)));
    await Promise.all([...waits, ...follows]);
  } finally {
    await manager.removeNode(node.nodeId).catch(() => undefined);
  }
}

/** The real server (`packages/server/dist/main.js`) in a process of its own, default settings (pool of 2). */
async function startServer(namespace: string): Promise<{ child: ChildProcess; rpc: (method: string, args?: object) => Promise<any> }> {
  const port = await freePort();
  const agent = new http.Agent({ keepAlive: false, maxSockets: 512 });
  const rpc = async (method: string, args: object = {}) => {
    const body = JSON.stringify({ method, args });
    return new Promise<any>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => resolve({ status: res.statusCode, ...JSON.parse(Buffer.concat(chunks).toString()) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  };
  const child = await spawnServer(port, namespace, {
    NODES_POOL_SPECS: JSON.stringify([{ labels }]),
    NODES_MAX_NODES: String(Math.max(RSS_NODES, CONCURRENT) + 10),
  }, () => rpc('list_nodes'));
  return { child, rpc };
}

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function concurrentCreates(): Promise<void> {
  const namespace = `bench-http-${stamp}`;
  const { child, rpc } = await startServer(namespace);
  try {
    const rawStarted = performance.now();
    const raws = await Promise.allSettled([...Array(CONCURRENT).keys()].map(() => rawCreateStart()));
    const rawMs = performance.now() - rawStarted;
    await Promise.all(raws.map((r) => (r.status === 'fulfilled' ? r.value.remove({ force: true }).catch(() => undefined) : undefined)));
    const started = performance.now();
    const answers = await Promise.all([...Array(CONCURRENT).keys()].map(() => rpc('create_node', { labels }).catch((e: Error) => ({ status: 0, error: e.message }))));
    const productMs = performance.now() - started;
    const errors = answers.filter((a) => a.status !== 200).length;
    console.log(
      `\n${CONCURRENT} concurrent: raw create+start ${rawMs.toFixed(0)} ms (${raws.filter((r) => r.status === 'rejected').length} errors), ` +
        `create_node over HTTP ${productMs.toFixed(0)} ms (${errors} errors): ${(productMs / rawMs).toFixed(2)}x`,
    );
    await Promise.all(answers.filter((a) => a.status === 200).map((a) => rpc('remove_node', { node_id: a.result.node_id })));
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    await sweepNamespace(namespace);
  }
}

async function serverRss(): Promise<void> {
  const namespace = `bench-rss-${stamp}`;
  const { child, rpc } = await startServer(namespace);
  try {
    const idle = rssOf(child.pid!);
    const nodes: string[] = [];
    for (let i = 0; i < RSS_NODES; i += 20) {
      const batch = await Promise.all([...Array(Math.min(20, RSS_NODES - i)).keys()].map(() => rpc('create_node', { labels })));
      nodes.push(...batch.filter((a) => a.status === 200).map((a) => a.result.node_id as string));
    }
    let records = 0;
    for (let i = 0; i < nodes.length; i += 20) {
      const slice = nodes.slice(i, i + 20);
      const done = await Promise.all(
        slice.map(async (nodeId) => {
          let n = 0;
          for (let p = 0; p < RSS_PROCESSES; p++) {
            const a = await rpc('run_process_on_node', { node_id: nodeId, config: { name: `p${p}`, path: '/', command: 'echo hi', env: {} } });
            if (a.status === 200) n++;
          }
          return n;
        }),
      );
      records += done.reduce((a, b) => a + b, 0);
    }
    await rpc('list_nodes');
    await rpc('get_health');
    await Promise.all(nodes.slice(0, 50).map((nodeId) => rpc('list_processes', { node_id: nodeId })));
    const loaded = rssOf(child.pid!);
    console.log(`\nserver RSS: ${idle.toFixed(1)} MiB idle, ${loaded.toFixed(1)} MiB holding ${nodes.length} nodes and ${records} process records`);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    await sweepNamespace(namespace);
  }
}

/** The memory one warm container costs on the engine's host: its cgroup's usage, as `docker stats` reads it. */
async function pooledMemory(manager: NodeManager): Promise<void> {
  await manager.warmUp();
  const warm = await docker.listContainers({ filters: JSON.stringify({ label: [`io.nodes.namespace=${warmNs}`, 'io.nodes.pool'] }) });
  const usage = await Promise.all(warm.map(async (c) => ((await docker.getContainer(c.Id).stats({ stream: false })) as { memory_stats: { usage?: number; stats?: { cache?: number; inactive_file?: number } } }).memory_stats));
  const mib = usage.map((m) => ((m.usage ?? 0) - (m.stats?.inactive_file ?? m.stats?.cache ?? 0)) / 2 ** 20);
  console.log(`\nwarm container memory (cgroup usage less page cache): ${mib.map((m) => m.toFixed(2)).join(', ')} MiB`);
}

const warm = createNodeManager({ namespace: warmNs, defaultImage: TEST_IMAGE, pullPolicy: 'never', poolSize: 2, poolSpecs: [{ labels }] });
const cold = createNodeManager({ namespace: coldNs, defaultImage: TEST_IMAGE, pullPolicy: 'never', poolSize: 0 });
rawNetwork = (await docker.createNetwork({ Name: `bench-raw-${stamp}`, Driver: 'bridge', Labels: labels })).id;
console.log(`@nodes speed benchmark on ${warm.endpoint}: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, engine ${(await docker.version()).Version}`);
// BENCH_ONLY=rounds,memory,idle,concurrent,rss (the default) or exec runs only those parts.
const only = new Set((process.env.BENCH_ONLY ?? 'rounds,memory,idle,concurrent,rss').split(','));
try {
  if (only.has('rounds')) {
    await rounds(warm, cold);
    printRounds();
  }
  if (only.has('exec')) await execRounds(warm);
  if (only.has('memory')) await pooledMemory(warm);
  if (only.has('idle')) await idleExecRate(warm);
  if (only.has('concurrent')) await concurrentCreates();
  if (only.has('rss')) await serverRss();
} finally {
  await warm.close();
  await Promise.all([sweepNamespace(warmNs), sweepNamespace(coldNs), sweepNamespace(rawLabels['io.nodes.namespace'])]);
  await docker.getNetwork(rawNetwork).remove().catch(() => undefined);
}
