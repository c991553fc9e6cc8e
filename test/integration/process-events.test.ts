import http from 'node:http';
import test from 'ava';
import { EngineError, type FollowEvent } from '@nodes/core';
import { docker, nodeFor, testManager, useEngine } from '../helpers/engine.js';
import { serveApp } from '../helpers/serve.js';

const { namespace, manager } = useEngine(test, 'process-events');

async function rpc(base: string, method: string, args: Record<string, unknown>): Promise<{ status: number; result: Record<string, any> }> {
  const response = await fetch(base, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ method, args }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: response.status, result: ((await response.json()) as { result: Record<string, any> }).result };
}

/** Counts `exec_create` events of one container from the engine's event stream until `stop` is called. */
async function countExecs(containerId: string): Promise<{ stop(): number }> {
  const stream = (await docker.getEvents({ filters: JSON.stringify({ container: [containerId], event: ['exec_create'] }) })) as NodeJS.ReadableStream & { destroy(): void };
  let count = 0;
  stream.on('data', (chunk: Buffer) => (count += chunk.toString().split('\n').filter((l) => l.includes('exec_create')).length));
  return {
    stop: () => {
      stream.destroy();
      return count;
    },
  };
}

/** Opens an SSE stream and collects its raw text until closed. */
function openSse(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: () => string; close(): void; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (s: string) => (text += s));
      const ended = new Promise<void>((r) => response.on('close', r));
      resolve({ status: response.statusCode ?? 0, text: () => text, close: () => request.destroy(), ended });
    });
    request.on('error', reject);
  });
}

test('followOutput yields every byte as it is written and ends with the final record', async (t) => {
  const node = await nodeFor(t, manager);
  const p = await manager.runProcess(node.nodeId, { command: 'for i in 1 2 3 4 5; do echo "tick $i"; echo "err $i" >&2; sleep 0.2; done; exit 4' });
  const out = { stdout: '', stderr: '' };
  let end: FollowEvent | undefined;
  for await (const e of manager.followOutput(node.nodeId, p.processId)) {
    if (e.type === 'end') end = e;
    else {
      t.is(e.offset, Buffer.byteLength(out[e.stream]), 'chunks follow each other without gap or overlap');
      out[e.stream] += e.data;
    }
  }
  t.is(out.stdout, [1, 2, 3, 4, 5].map((i) => `tick ${i}\n`).join(''));
  t.is(out.stderr, [1, 2, 3, 4, 5].map((i) => `err ${i}\n`).join(''));
  t.like(end, { type: 'end', process: { status: 'exited', exitCode: 4 } });
});

test('exec runs, waits and collects both streams and the exit code in one call, with two execs', async (t) => {
  const node = await nodeFor(t, manager);
  await manager.exec(node.nodeId, { command: 'true' }); // the first call subscribes to events
  const counter = await countExecs(node.containerId);
  const answer = await manager.exec(node.nodeId, { command: 'echo hi; echo oops >&2; exit 3' });
  await new Promise((r) => setTimeout(r, 300));
  const execs = counter.stop();
  t.like(answer, { exitCode: 3, stdout: 'hi\n', stderr: 'oops\n', process: { status: 'exited' } });
  t.true(execs <= 2, `${execs} execs for one exec() (start and read)`);
  const big = await manager.exec(node.nodeId, { command: 'head -c 2500000 /dev/zero | tr "\\0" a' });
  t.is(big.stdout.length, 1024 * 1024, 'all that was kept, over more than one page');
});

test('20 waiters and 20 followers of quiet processes cost at most 1 exec per second, and an end reaches them fast', async (t) => {
  const node = await nodeFor(t, manager);
  const quiet = await Promise.all(Array.from({ length: 4 }, () => manager.runProcess(node.nodeId, { command: 'sleep 18; exit 5' })));
  const waits = Array.from({ length: 20 }, (_, i) => manager.waitProcess(node.nodeId, quiet[i % 4]!.processId, { timeoutMs: 60_000 }));
  const followers = Array.from({ length: 20 }, async (_, i) => {
    let last: FollowEvent | undefined;
    for await (const e of manager.followOutput(node.nodeId, quiet[i % 4]!.processId)) last = e;
    return last;
  });
  await new Promise((r) => setTimeout(r, 3_000)); // everyone has joined
  const counter = await countExecs(node.containerId);
  const windowMs = 10_000;
  await new Promise((r) => setTimeout(r, windowMs));
  const execs = counter.stop();
  t.log(`${execs} execs in ${windowMs} ms with 20 waiters and 20 followers`);
  t.true(execs <= windowMs / 1000, `${execs} execs in ${windowMs} ms`);

  // The processes end on their own: time from the engine's first exec_die to the last waiter.
  const dies = (await docker.getEvents({ filters: JSON.stringify({ container: [node.containerId], event: ['exec_die'] }) })) as NodeJS.ReadableStream & { destroy(): void };
  let firstDie = 0;
  dies.on('data', () => (firstDie ||= Date.now()));
  const ends = await Promise.all(waits.map((w) => w.then((r) => ({ at: Date.now(), r }))));
  dies.destroy();
  const lastMs = Math.max(...ends.map((e) => e.at)) - firstDie;
  t.log(`the last of 20 waiters learned of the end ${lastMs} ms after the first exec_die`);
  for (const { r } of ends) t.like(r, { status: 'exited', exitCode: 5 });
  for (const f of await Promise.all(followers)) t.like(f, { type: 'end', process: { status: 'exited', exitCode: 5 } });
});

test('a follower that does not take its output is dropped once its queue passes the bound', async (t) => {
  const m = testManager(namespace, { followerQueueBytes: 64 * 1024 });
  const node = await nodeFor(t, m);
  const p = await m.runProcess(node.nodeId, { command: 'sleep 1; head -c 800000 /dev/zero | tr "\\0" a; sleep 1000' });
  t.teardown(() => m.killProcess(node.nodeId, p.processId, { graceMs: 0 }).then(() => undefined, () => undefined));
  const events = m.followOutput(node.nodeId, p.processId);
  await events.next(); // joins; then takes nothing while the output comes
  await new Promise((r) => setTimeout(r, 4_000));
  await t.throwsAsync(
    (async () => {
      for await (const _ of events) void _;
    })(),
    { instanceOf: EngineError, message: /fell more than 65536 bytes behind/ },
  );
});

test('run_process_on_node with wait: true answers the ended record and both streams in one round trip', async (t) => {
  const node = await nodeFor(t, manager);
  const base = await serveApp(t, manager);
  const { status, result } = await rpc(base, 'run_process_on_node', {
    node_id: node.nodeId,
    config: { name: 'greet', path: '/tmp', command: 'echo hi from $(pwd); echo oops >&2; exit 2', env: {}, timeout_ms: 10_000 },
    wait: true,
  });
  t.is(status, 200);
  t.like(result, { status: 'success', process: { status: 'exited', exit_code: 2 }, stdout: { data: 'hi from /tmp\n', complete: true }, stderr: { data: 'oops\n' } });
});

test('SSE: heartbeats on a quiet stream, 429 past the follower cap, 400 for a Last-Event-ID past the output', async (t) => {
  const m = testManager(namespace, { maxFollowersPerProcess: 2 });
  const node = await nodeFor(t, m);
  const base = await serveApp(t, m, { sseHeartbeatMs: 200 });
  const p = await m.runProcess(node.nodeId, { command: 'echo started; sleep 1000' });
  t.teardown(() => m.killProcess(node.nodeId, p.processId, { graceMs: 0 }).then(() => undefined, () => undefined));
  const url = `${base}/nodes/${node.nodeId}/processes/${p.processId}/logs?follow=1`;
  const first = await openSse(url);
  const second = await openSse(url);
  await new Promise((r) => setTimeout(r, 1_500));
  t.is(first.status, 200);
  t.regex(first.text(), /: heartbeat\n\n/);
  t.regex(first.text(), /event: stdout\ndata: \{"data":"started\\n"/);
  const third = await openSse(url);
  t.is(third.status, 429);
  third.close();
  first.close();
  second.close();
  const past = await openSse(url, { 'last-event-id': '9999,0' });
  t.is(past.status, 400);
  past.close();
});

test('100 SSE followers that never read leave the server memory bounded', async (t) => {
  const node = await nodeFor(t, manager);
  const base = await serveApp(t, manager);
  const writers = await Promise.all(
    Array.from({ length: 4 }, () => manager.runProcess(node.nodeId, { command: 'sleep 2; head -c 1000000 /dev/urandom | base64; sleep 1000' })),
  );
  t.teardown(() => Promise.all(writers.map((p) => manager.killProcess(node.nodeId, p.processId, { graceMs: 0 }).catch(() => undefined))).then(() => undefined));
  global.gc?.();
  const before = process.memoryUsage().rss;
  const requests = await Promise.all(
    Array.from(
      { length: 100 },
      (_, i) =>
        new Promise<http.ClientRequest>((resolve, reject) => {
          const request = http.get(`${base}/nodes/${node.nodeId}/processes/${writers[i % 4]!.processId}/logs?follow=1`, (response) => {
            response.pause(); // never reads
            resolve(request);
          });
          request.on('error', reject);
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 8_000));
  const grewMiB = (process.memoryUsage().rss - before) / 1024 / 1024;
  for (const r of requests) r.destroy();
  t.log(`server RSS grew ${grewMiB.toFixed(1)} MiB with 100 followers that never read 4 processes writing 1.3 MB each`);
  t.true(grewMiB < 150, `${grewMiB} MiB`);
});
