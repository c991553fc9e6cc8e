import test from 'ava';
import { nodeFor, useEngine } from '../helpers/engine.js';
import { PROCESS_IMAGES, imageReady } from '../helpers/images.js';

const { manager } = useEngine(test, 'process-limits');

for (const image of PROCESS_IMAGES) {
  test(`a memory hog's record says out of memory (${image})`, async (t) => {
    if (!(await imageReady(t, image))) return;
    const node = await nodeFor(t, manager, { image, memoryBytes: 48 * 1024 * 1024 });
    const hog = await manager.runProcess(node.nodeId, { name: 'hog', command: "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived" });
    const done = await manager.waitProcess(node.nodeId, hog.processId, { timeoutMs: 60_000 });
    t.like(done, { status: 'exited', exitCode: 137, signal: 'SIGKILL', reason: 'oom_killed' });
    const calm = await manager.exec(node.nodeId, { command: 'echo fine' });
    t.like(calm, { exitCode: 0, stdout: 'fine\n' });
    t.is(calm.process.reason, undefined, 'a process that ended on its own is not named out of memory');
  });
}

test('a node whose main process the out-of-memory killer ended says so in get_node and get_health', async (t) => {
  const node = await nodeFor(t, manager, { memoryBytes: 32 * 1024 * 1024, command: "sleep 2; x=$(head -c 200000000 /dev/zero | tr '\\0' a); sleep 1000" });
  const deadline = Date.now() + 30_000;
  let info = await manager.getNode(node.nodeId);
  while (info.state === 'running' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    info = await manager.getNode(node.nodeId);
  }
  t.like(info, { state: 'exited', exitCode: 137, oomKilled: true });
  const health = await manager.getHealth();
  const reason = health.reasons.find((r) => r.kind === 'node' && r.nodeId === node.nodeId);
  t.like(reason, { oomKilled: true });
  t.regex(reason?.message ?? '', /killed for lack of memory/);
});

test('a huge file planted in a record gives an error for that process only, and the server reads a bounded amount', async (t) => {
  const node = await nodeFor(t, manager);
  const victim = await manager.exec(node.nodeId, { name: 'victim', command: 'exit 3' });
  const bystander = await manager.exec(node.nodeId, { name: 'bystander', command: 'echo ok' });
  const planted = 64 * 1024 * 1024;
  await manager.exec(node.nodeId, { command: `head -c ${planted} /dev/zero > /tmp/.nodes/processes/${victim.process.processId}/meta` });
  global.gc?.();
  const before = process.memoryUsage().rss;
  const record = await manager.getProcess(node.nodeId, victim.process.processId);
  t.regex(record.error ?? '', /record file "meta" is 67108864 bytes, over the 1048576-byte bound/);
  t.like(record, { status: 'exited', exitCode: 3 }, 'the rest of its record still reads');
  const listed = await manager.listProcesses(node.nodeId);
  t.like(
    listed.find((p) => p.processId === bystander.process.processId),
    { name: 'bystander', exitCode: 0, error: undefined },
  );
  const grewBytes = process.memoryUsage().rss - before;
  t.log(`RSS grew ${(grewBytes / 1024 / 1024).toFixed(1)} MiB reading a record with a ${planted / 1024 / 1024} MiB file in it`);
  t.true(grewBytes < 32 * 1024 * 1024);
});
