import test from 'ava';
import { NodeNotFoundError, ProcessNotFoundError, TimeoutError, type NodeManager, type ProcessRecord } from '@nodes/core';
import { execIn, nodeFor, testLabels, testManager, useEngine } from '../helpers/engine.js';

const { namespace, manager } = useEngine(test, 'processes');

/** Polls `check` every 50 ms until it returns a value, or fails after `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not true after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Matches a `pid stat args` line of exactly this command (not of a supervisor whose arguments end with it). */
const exactly = (args: string) => new RegExp(`^\\d+\\s+\\S+\\s+${args.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

/** The node's process table from outside, as `pid stat args` lines (the `ps` itself left out). */
async function processTable(containerId: string): Promise<string[]> {
  const { stdout } = await execIn(containerId, ['ps', '-o', 'pid,stat,args']);
  return stdout
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => l && !/\bps -o\b/.test(l));
}

/** Every byte of one stream, read in pages of `limitBytes`. */
async function readAll(m: NodeManager, nodeId: string, processId: string, stream: 'stdout' | 'stderr', limitBytes = 1024 * 1024): Promise<string> {
  let offset = 0;
  let text = '';
  for (;;) {
    const chunk = await m.getProcessOutput(nodeId, processId, stream, { offset, limitBytes });
    text += chunk.data;
    if (chunk.nextOffset === offset) return text;
    offset = chunk.nextOffset;
  }
}

test('a process that writes to both streams and exits with 3 keeps them apart, with the last unterminated line', async (t) => {
  const node = await nodeFor(t, manager);
  const started = await manager.runProcess(node.nodeId, {
    name: 'two-streams',
    command: "printf 'out 1\\nout 2'; printf 'err 1\\nerr 2' >&2; exit 3",
  });
  t.is(started.nodeId, node.nodeId);
  const done = await manager.waitProcess(node.nodeId, started.processId, { timeoutMs: 10_000 });
  t.is(done.status, 'exited');
  t.is(done.exitCode, 3);
  t.is(done.signal, undefined);
  t.truthy(done.endedAt);
  t.is(await readAll(manager, node.nodeId, started.processId, 'stdout'), 'out 1\nout 2');
  t.is(await readAll(manager, node.nodeId, started.processId, 'stderr'), 'err 1\nerr 2');
  t.deepEqual({ stdout: done.stdoutBytes, stderr: done.stderrBytes }, { stdout: 11, stderr: 11 });
});

test('an argv command runs as it is, without a shell, in its working directory', async (t) => {
  const node = await nodeFor(t, manager);
  const p = await manager.runProcess(node.nodeId, { command: ['/bin/sh', '-c', 'pwd; echo "$0"', 'a b'], path: '/tmp' });
  await manager.waitProcess(node.nodeId, p.processId, { timeoutMs: 10_000 });
  t.is(await readAll(manager, node.nodeId, p.processId, 'stdout'), '/tmp\na b\n');
  await t.throwsAsync(manager.runProcess(node.nodeId, { command: 'true', path: '/no/such/dir' }), {
    message: /path: working directory "\/no\/such\/dir" does not exist/,
  });
});

test('killing a process ends it and all its children with SIGTERM (exit code 143)', async (t) => {
  const node = await nodeFor(t, manager);
  const single = await manager.runProcess(node.nodeId, { command: 'sleep 1000' });
  const tree = await manager.runProcess(node.nodeId, { command: "sh -c 'sleep 1000 & sleep 1000 & wait'" });
  // The tree is running once its two sleeps are, so the kill meets them all.
  await until('three sleeps in the node', async () => ((await processTable(node.containerId)).filter((l) => exactly('sleep 1000').test(l)).length === 3 ? true : undefined));

  for (const p of [single, tree]) {
    const killed = await manager.killProcess(node.nodeId, p.processId, { graceMs: 2_000 });
    t.is(killed.status, 'killed');
    t.is(killed.signal, 'SIGTERM');
    t.is(killed.exitCode, 143);
  }
  const table = await processTable(node.containerId);
  t.deepEqual(table.filter((l) => exactly('sleep 1000').test(l)), [], table.join('\n'));
  t.is((await manager.getProcess(node.nodeId, tree.processId)).status, 'killed');
});

test('a process that ignores SIGTERM gets SIGKILL after grace_ms', async (t) => {
  const node = await nodeFor(t, manager);
  const p = await manager.runProcess(node.nodeId, { command: 'trap "" TERM; sleep 1000' });
  await until('the sleep runs', async () => ((await processTable(node.containerId)).some((l) => exactly('sleep 1000').test(l)) ? true : undefined));
  const before = Date.now();
  const killed = await manager.killProcess(node.nodeId, p.processId, { graceMs: 300 });
  const tookMs = Date.now() - before;
  t.is(killed.status, 'killed');
  t.is(killed.signal, 'SIGKILL');
  t.is(killed.exitCode, 137);
  t.true(tookMs >= 300, `kill returned after ${tookMs} ms`);
  t.true(tookMs < 5_000, `kill returned after ${tookMs} ms`);
  t.deepEqual((await processTable(node.containerId)).filter((l) => exactly('sleep 1000').test(l)), []);
});

test('a process with timeout_ms 500 ends as timed_out', async (t) => {
  const node = await nodeFor(t, manager);
  const p = await manager.runProcess(node.nodeId, { command: 'sleep 1000', timeoutMs: 500 });
  t.is(p.status, 'running');
  t.is(p.timeoutMs, 500);
  const done = await manager.waitProcess(node.nodeId, p.processId, { timeoutMs: 10_000 });
  t.is(done.status, 'timed_out');
  t.is(done.exitCode, 143);
  t.is(done.signal, 'SIGTERM');
  const ranMs = done.endedAtMs! - done.startedAtMs;
  t.true(ranMs >= 450 && ranMs < 3_000, `ran ${ranMs} ms`);
  t.deepEqual((await processTable(node.containerId)).filter((l) => exactly('sleep 1000').test(l)), []);
});

test('a timed-out process that ignores SIGTERM gets SIGKILL after its own grace_ms', async (t) => {
  const node = await nodeFor(t, manager);
  const p = await manager.runProcess(node.nodeId, { command: 'trap "" TERM; sleep 1000 & wait', timeoutMs: 300, graceMs: 200 });
  // Past the waits' 15 s re-read: Podman's exec_died events carry no exec id and one can be missed. The times
  // checked below are the record's own, not how long the wait took.
  const done = await manager.waitProcess(node.nodeId, p.processId, { timeoutMs: 30_000 });
  t.like(done, { status: 'timed_out', exitCode: 137, signal: 'SIGKILL' });
  const ranMs = done.endedAtMs! - done.startedAtMs;
  t.true(ranMs >= 450 && ranMs < 4_000, `ran ${ranMs} ms: 300 ms, then 200 ms of grace, not the default 5000 ms`);
});

test('a process that leaves a background child behind ends at once with its output', async (t) => {
  const node = await nodeFor(t, manager);
  const p = await manager.runProcess(node.nodeId, { command: "sh -c 'sleep 300 & echo started'" });
  const done = await manager.waitProcess(node.nodeId, p.processId, { timeoutMs: 10_000 });
  t.is(done.status, 'exited');
  t.is(done.exitCode, 0);
  t.true(done.endedAtMs! - done.startedAtMs < 3_000, `ended after ${done.endedAtMs! - done.startedAtMs} ms`);
  const stdout = await manager.getProcessOutput(node.nodeId, p.processId, 'stdout');
  t.is(stdout.data, 'started\n');
  t.true(stdout.complete);
  // Killing the ended process takes what is left of its group and keeps its record.
  const after = await manager.killProcess(node.nodeId, p.processId, { graceMs: 1_000 });
  t.is(after.status, 'exited');
  t.is(after.exitCode, 0);
  t.deepEqual((await processTable(node.containerId)).filter((l) => exactly('sleep 300').test(l)), []);
});

test('200 short processes leave no zombie in the node', async (t) => {
  const node = await nodeFor(t, manager);
  const count = 200;
  const concurrency = 10;
  const before = Date.now();
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        ids.push((await manager.runProcess(node.nodeId, { name: `short-${i}`, command: `echo ${i}` })).processId);
      }
    }),
  );
  const startedMs = Date.now() - before;
  const records = await until(
    'all 200 processes ended',
    async () => {
      const list = await manager.listProcesses(node.nodeId);
      return list.length === count && list.every((p) => p.status !== 'running') ? list : undefined;
    },
    30_000,
  );
  const totalMs = Date.now() - before;
  t.log(`${count} processes with concurrency ${concurrency}: started in ${startedMs} ms, all ended after ${totalMs} ms`);
  t.deepEqual(records.map((r) => r.processId).sort(), [...ids].sort());
  t.true(records.every((r: ProcessRecord) => r.status === 'exited' && r.exitCode === 0));
  const table = await until('supervisors gone', async () => {
    const lines = await processTable(node.containerId);
    return lines.length <= 3 ? lines : undefined; // docker-init, the node's idle command and its sleep
  });
  t.deepEqual(table.filter((l) => /^\d+\s+Z/.test(l)), [], table.join('\n'));
});

test('output written in many small pieces, slowly, is kept whole on both streams', async (t) => {
  const node = await nodeFor(t, manager);
  // GNU dd's iflag=count_bytes counted each short read from the FIFO as a whole block: 16 reads, and the rest was lost.
  const answer = await manager.exec(node.nodeId, { command: 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo out $i; echo err $i >&2; sleep 0.01; done' });
  const lines = (prefix: string) => Array.from({ length: 40 }, (_, i) => `${prefix} ${i + 1}\n`).join('');
  t.is(answer.stdout, lines('out'));
  t.is(answer.stderr, lines('err'));
});

test('output beyond outputCapBytes is cut at the cap and says so', async (t) => {
  const capBytes = 64 * 1024;
  const small = testManager(namespace, { outputCapBytes: capBytes });
  const node = await nodeFor(t, small);
  const p = await small.runProcess(node.nodeId, { command: "head -c 3000000 /dev/zero | tr '\\0' a; echo done >&2" });
  const done = await small.waitProcess(node.nodeId, p.processId, { timeoutMs: 15_000 });
  t.is(done.status, 'exited');
  t.is(done.exitCode, 0);
  t.deepEqual(done.truncated, { stdout: true, stderr: false });
  t.is(done.stdoutBytes, capBytes);
  const stdout = await small.getProcessOutput(node.nodeId, p.processId, 'stdout');
  t.is(stdout.data.length, capBytes);
  t.is(stdout.totalBytes, capBytes);
  t.true(stdout.truncated);
  t.true(stdout.complete);
  t.is(await readAll(small, node.nodeId, p.processId, 'stderr'), 'done\n');
});

test('waitProcess returns the final record, or a timeout error while the process still runs', async (t) => {
  const node = await nodeFor(t, manager);
  const quick = await manager.runProcess(node.nodeId, { command: 'sleep 0.3; echo ok' });
  const done = await manager.waitProcess(node.nodeId, quick.processId, { timeoutMs: 10_000 });
  t.like(done, { processId: quick.processId, status: 'exited', exitCode: 0 });
  const slow = await manager.runProcess(node.nodeId, { command: 'sleep 1000' });
  const before = Date.now();
  await t.throwsAsync(manager.waitProcess(node.nodeId, slow.processId, { timeoutMs: 300 }), {
    instanceOf: TimeoutError,
    message: `process "${slow.processId}" on node "${node.nodeId}" still runs after 300 ms`,
  });
  t.true(Date.now() - before < 5_000, 'the wait ends near its timeout, not when the process ends');
  t.is((await manager.getProcess(node.nodeId, slow.processId)).status, 'running');
  await t.throwsAsync(manager.waitProcess(node.nodeId, 'p-000000000000', { timeoutMs: 300 }), { instanceOf: ProcessNotFoundError });
});

test('output is read in pages by byte offset', async (t) => {
  const node = await nodeFor(t, manager);
  const p = await manager.runProcess(node.nodeId, { command: 'seq 1 3000' });
  await manager.waitProcess(node.nodeId, p.processId, { timeoutMs: 10_000 });
  const expected = Array.from({ length: 3000 }, (_, i) => `${i + 1}\n`).join('');
  const first = await manager.getProcessOutput(node.nodeId, p.processId, 'stdout', { offset: 0, limitBytes: 1000 });
  t.like(first, { offset: 0, nextOffset: 1000, totalBytes: expected.length, complete: false, truncated: false });
  t.is(first.data, expected.slice(0, 1000));
  const middle = await manager.getProcessOutput(node.nodeId, p.processId, 'stdout', { offset: 5000, limitBytes: 7 });
  t.is(middle.data, expected.slice(5000, 5007));
  t.is(await readAll(manager, node.nodeId, p.processId, 'stdout', 999), expected);
  const last = await manager.getProcessOutput(node.nodeId, p.processId, 'stdout', { offset: expected.length });
  t.like(last, { data: '', nextOffset: expected.length, complete: true });
});

test('env values reach the process but never its record', async (t) => {
  const node = await nodeFor(t, manager);
  const secret = 'hunter2-s3cr3t-value';
  const p = await manager.runProcess(node.nodeId, {
    command: 'echo "${#API_TOKEN} $MODE" | tr a-z A-Z',
    env: { API_TOKEN: secret, MODE: 'test-mode-value' },
  });
  const done = await manager.waitProcess(node.nodeId, p.processId, { timeoutMs: 10_000 });
  t.is(done.exitCode, 0);
  t.is(await readAll(manager, node.nodeId, p.processId, 'stdout'), `${secret.length} TEST-MODE-VALUE\n`);
  t.deepEqual(done.envKeys, ['API_TOKEN', 'MODE']);
  for (const record of [p, done, ...(await manager.listProcesses(node.nodeId))]) {
    t.false(JSON.stringify(record).includes(secret));
    t.false(JSON.stringify(record).includes('test-mode-value'));
  }
  const { stdout } = await execIn(node.containerId, ['cat', `/tmp/.nodes/processes/${p.processId}/meta.json`]);
  t.false(stdout.includes(secret));
});

test('reset_node makes a running process lost (exit code 137) and keeps its record', async (t) => {
  const node = await nodeFor(t, manager);
  const ended = await manager.runProcess(node.nodeId, { command: 'echo before' });
  await manager.waitProcess(node.nodeId, ended.processId, { timeoutMs: 10_000 });
  const running = await manager.runProcess(node.nodeId, { command: 'echo running; sleep 1000' });
  await until('output written', async () => ((await manager.getProcess(node.nodeId, running.processId)).stdoutBytes > 0 ? true : undefined));
  const reset = await manager.resetNode(node.nodeId);
  t.not(reset.containerId, node.containerId);
  const lost = await manager.getProcess(node.nodeId, running.processId);
  t.like(lost, { status: 'lost', exitCode: 137, signal: 'SIGKILL' });
  t.truthy(lost.endedAt);
  t.like(await manager.getProcess(node.nodeId, ended.processId), { status: 'exited', exitCode: 0 });
  t.is(await readAll(manager, node.nodeId, running.processId, 'stdout'), 'running\n');
  t.deepEqual((await manager.listProcesses(node.nodeId)).map((p) => p.processId), [ended.processId, running.processId]);
  t.deepEqual((await processTable(reset.containerId)).filter((l) => exactly('sleep 1000').test(l)), []);
});

test('binary output comes back byte for byte in base64, and UTF-8 pages never split a character', async (t) => {
  const node = await nodeFor(t, manager);
  // \377\376\000\001 are not UTF-8; the euro sign is 3 bytes and the emoji 4, so small pages cut through them.
  const bin = await manager.runProcess(node.nodeId, { command: "printf '\\377\\376\\000\\001'" });
  await manager.waitProcess(node.nodeId, bin.processId, { timeoutMs: 10_000 });
  const raw = await manager.getProcessOutput(node.nodeId, bin.processId, 'stdout', { encoding: 'base64' });
  t.deepEqual(Buffer.from(raw.data, 'base64'), Buffer.from([0xff, 0xfe, 0x00, 0x01]));
  t.like(raw, { encoding: 'base64', nextOffset: 4, totalBytes: 4, complete: true });

  const text = 'a€b😀c€😀\n';
  const utf = await manager.runProcess(node.nodeId, { command: `printf '%s\\n' '${text.trimEnd()}'` });
  await manager.waitProcess(node.nodeId, utf.processId, { timeoutMs: 10_000 });
  for (const limitBytes of [1, 2, 3, 5]) {
    const pages: string[] = [];
    for (let offset = 0; ; ) {
      const chunk = await manager.getProcessOutput(node.nodeId, utf.processId, 'stdout', { offset, limitBytes });
      t.false(chunk.data.includes('\uFFFD'), `page at ${offset} of at most ${limitBytes} bytes holds only whole characters`);
      pages.push(chunk.data);
      if (chunk.complete) break;
      t.true(chunk.nextOffset > offset, 'every page moves on');
      offset = chunk.nextOffset;
    }
    t.is(pages.join(''), text, `pages of ${limitBytes} bytes join back`);
  }
  const both = await manager.getProcessLogs(node.nodeId, utf.processId, { limitBytes: 1024 });
  t.like(both, { process: { processId: utf.processId, status: 'exited' }, stdout: { data: text, complete: true }, stderr: { data: '', complete: true } });
});

test('waiting on and reading a process whose node is removed meanwhile says the node is gone', async (t) => {
  const node = await manager.createNode({ labels: testLabels() });
  t.teardown(() => manager.removeNode(node.nodeId).catch(() => undefined));
  const p = await manager.runProcess(node.nodeId, { command: 'sleep 1000' });
  const waiting = manager.waitProcess(node.nodeId, p.processId, { timeoutMs: 30_000 });
  await manager.removeNode(node.nodeId);
  await t.throwsAsync(waiting, { instanceOf: NodeNotFoundError, message: `node "${node.nodeId}" does not exist` });
  await t.throwsAsync(manager.getProcessLogs(node.nodeId, p.processId), { instanceOf: NodeNotFoundError });
});
