/**
 * Prints how long node and process operations take on this engine (ms, median and p95 over N rounds) and the
 * manager's memory. Figures, not a pass/fail: run `pnpm run build && node test/dist/bench/lifecycle.bench.js [rounds]`.
 */
import { performance } from 'node:perf_hooks';
import { createNodeManager } from '@nodes/core';
import { sweepNamespace, testLabels, TEST_IMAGE } from '../helpers/engine.js';

const rounds = Number(process.argv[2] ?? 10);
const namespace = `bench-${process.pid}`;
const manager = createNodeManager({ namespace, defaultImage: TEST_IMAGE, pullPolicy: 'never' });
const times: Record<string, number[]> = {};

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    (times[what] ??= []).push(performance.now() - started);
  }
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

try {
  for (let i = 0; i < rounds; i++) {
    const node = await timed('create_node', () => manager.createNode({ labels: testLabels() }));
    const p = await timed('run_process (start)', () => manager.runProcess(node.nodeId, { name: 'echo', command: 'echo hi' }));
    await timed('wait_process (ended)', () => manager.waitProcess(node.nodeId, p.processId));
    await timed('get_process_output', () => manager.getProcessOutput(node.nodeId, p.processId, 'stdout'));
    await timed('kill_process (sleep)', async () => {
      const s = await manager.runProcess(node.nodeId, { name: 'sleep', command: 'sleep 1000' });
      return manager.killProcess(node.nodeId, s.processId, { graceMs: 1000 });
    });
    await timed('reset_node', () => manager.resetNode(node.nodeId));
    await timed('get_health', () => manager.getHealth());
    await timed('remove_node', () => manager.removeNode(node.nodeId));
  }
  console.log(`@nodes lifecycle benchmark: ${rounds} rounds on ${manager.endpoint}`);
  for (const [what, xs] of Object.entries(times)) {
    console.log(`${what.padEnd(24)} median ${pct(xs, 50).toFixed(1).padStart(7)} ms   p95 ${pct(xs, 95).toFixed(1).padStart(7)} ms`);
  }
  const mem = process.memoryUsage();
  console.log(`manager process: rss ${(mem.rss / 2 ** 20).toFixed(1)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(1)} MiB`);
} finally {
  await sweepNamespace(namespace);
}
