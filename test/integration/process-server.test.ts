import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { execIn, nodeFor, TEST_IMAGE, useEngine } from '../helpers/engine.js';
import { serveApp } from '../helpers/serve.js';

const { namespace, manager } = useEngine(test, 'process-server');
const MAIN = fileURLToPath(new URL('../../../packages/server/dist/main.js', import.meta.url));

/** The app on an ephemeral port of 127.0.0.1, closed when the test ends. */
const serve = (t: ExecutionContext): Promise<string> => serveApp(t, manager);

/** One call of the spec's `{method, args}` envelope; returns `result`. */
async function rpc(base: string, method: string, args: Record<string, unknown>): Promise<Record<string, any>> {
  const response = await fetch(base, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ method, args, timestamp: Date.now() / 1000 }),
    signal: AbortSignal.timeout(20_000),
  });
  return ((await response.json()) as { result: Record<string, any> }).result;
}

interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/**
 * Reads Server-Sent Events from `url` until an `end` or `error` event, or until `stopAfter` events when given
 * (then the connection is dropped, as a client that goes away does). Fails after `timeoutMs`.
 */
function readEvents(url: string, options: { lastEventId?: string; stopAfter?: number; timeoutMs?: number } = {}): Promise<SseEvent[]> {
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
    const request = http.get(url, { headers }, (response) => {
      if (response.statusCode !== 200 || !/text\/event-stream/.test(String(response.headers['content-type']))) {
        reject(new Error(`GET ${url}: HTTP ${response.statusCode} ${response.headers['content-type']}`));
        request.destroy();
        return;
      }
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (text: string) => {
        buffer += text;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: 'message', data: undefined };
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            const [field, value] = [line.slice(0, colon), line.slice(colon + 1).trimStart()];
            if (field === 'id') event.id = value;
            if (field === 'event') event.event = value;
            if (field === 'data') event.data = JSON.parse(value);
          }
          events.push(event);
          if (event.event === 'end' || event.event === 'error' || events.length === options.stopAfter) {
            clearTimeout(timer);
            request.destroy();
            resolve(events);
            return;
          }
        }
      });
      response.on('end', () => {
        clearTimeout(timer);
        resolve(events);
      });
    });
    request.on('error', (error) => reject(error));
    const timer = setTimeout(() => {
      request.destroy();
      reject(new Error(`GET ${url}: no end event after ${options.timeoutMs ?? 15_000} ms (${events.length} events)`));
    }, options.timeoutMs ?? 15_000);
  });
}

/** Joins the data of one stream's events, checking that each starts where the previous one ended. */
function joinStream(t: ExecutionContext, events: SseEvent[], stream: 'stdout' | 'stderr', from = 0): string {
  let text = '';
  let offset = from;
  for (const e of events.filter((e) => e.event === stream)) {
    t.is(e.data.offset, offset, `${stream} event at offset ${e.data.offset}, expected ${offset}`);
    text += e.data.data;
    offset += Buffer.byteLength(e.data.data);
  }
  return text;
}

const TICKS = 'for i in 1 2 3 4 5 6; do echo "out $i"; echo "err $i" >&2; sleep 0.1; done; printf tail';
const TICKS_STDOUT = '' + [1, 2, 3, 4, 5, 6].map((i) => `out ${i}\n`).join('') + 'tail';
const TICKS_STDERR = [1, 2, 3, 4, 5, 6].map((i) => `err ${i}\n`).join('');
/** Writes half its output, waits for the file `/tmp/go-<tag>` (see `go`), then writes the rest. */
const gated = (tag: string) =>
  `echo "out 1"; echo "err 1" >&2; echo "out 2"; while [ ! -e /tmp/go-${tag} ]; do sleep 0.05; done; echo "out 3"; echo "err 2" >&2; printf tail`;
const GATED_STDOUT = 'out 1\nout 2\nout 3\ntail';
const GATED_STDERR = 'err 1\nerr 2\n';
/** Lets a `gated` process go on, from outside. */
const go = async (containerId: string, tag: string) => t_is0(await execIn(containerId, ['touch', `/tmp/go-${tag}`]));
const t_is0 = (r: { exitCode: number }) => {
  if (r.exitCode !== 0) throw new Error(`exec in the node failed with ${r.exitCode}`);
};

test('following logs over SSE gives all output with ids; a reconnect with Last-Event-ID loses and repeats nothing', async (t) => {
  const base = await serve(t);
  const node = await nodeFor(t, manager);
  const started = await rpc(base, 'run_process_on_node', { node_id: node.nodeId, config: { command: TICKS } });
  t.is(started.status, 'success');
  const url = `${base}/nodes/${node.nodeId}/processes/${started.process_id}/logs?follow=1`;

  const whole = await readEvents(url);
  t.is(whole.at(-1)!.event, 'end');
  t.like(whole.at(-1)!.data.process, { status: 'exited', exit_code: 0 });
  t.is(joinStream(t, whole, 'stdout'), TICKS_STDOUT);
  t.is(joinStream(t, whole, 'stderr'), TICKS_STDERR);
  for (const e of whole) t.regex(e.id ?? '', /^\d+,\d+$/);

  // The process has ended: read from the start again, drop the connection after two events, resume.
  const first = await readEvents(url, { stopAfter: 2 });
  t.is(first.length, 2);
  const lastId = first.at(-1)!.id!;
  const rest = await readEvents(url, { lastEventId: lastId });
  const [stdoutFrom, stderrFrom] = lastId.split(',').map(Number);
  const all = [...first, ...rest];
  t.is(joinStream(t, all, 'stdout'), TICKS_STDOUT);
  t.is(joinStream(t, all, 'stderr'), TICKS_STDERR);
  t.is(joinStream(t, rest, 'stdout', stdoutFrom), TICKS_STDOUT.slice(stdoutFrom));
  t.is(rest.at(-1)!.event, 'end');
});

test('a follower that drops while the process runs resumes with Last-Event-ID without gaps or repeats', async (t) => {
  const base = await serve(t);
  const node = await nodeFor(t, manager);
  const started = await rpc(base, 'run_process_on_node', { node_id: node.nodeId, config: { command: gated('drop') } });
  const url = `${base}/nodes/${node.nodeId}/processes/${started.process_id}/logs?follow=1`;
  const first = await readEvents(url, { stopAfter: 2 });
  t.is(first.length, 2);
  t.is((await rpc(base, 'get_process', { node_id: node.nodeId, process_id: started.process_id })).process.status, 'running');
  await go(node.containerId, 'drop');
  const rest = await readEvents(url, { lastEventId: first.at(-1)!.id });
  t.is(rest.at(-1)!.event, 'end');
  const all = [...first, ...rest];
  t.is(joinStream(t, all, 'stdout'), GATED_STDOUT);
  t.is(joinStream(t, all, 'stderr'), GATED_STDERR);
});

test('wait_process returns the final record or fails with a timeout; get_process_logs pages by offset', async (t) => {
  const base = await serve(t);
  const node = await nodeFor(t, manager);
  const slow = await rpc(base, 'run_process_on_node', { node_id: node.nodeId, config: { command: 'sleep 1000', env: { TOKEN: 'do-not-echo-me' } } });
  t.deepEqual(slow.process.env_keys, ['TOKEN']);
  t.false(JSON.stringify(slow).replace(/"request":.*/, '').includes('do-not-echo-me'));
  const timedOut = await rpc(base, 'wait_process', { node_id: node.nodeId, process_id: slow.process_id, timeout_ms: 300 });
  t.like(timedOut, { status: 'failed', message: 'unable to wait for process', error: { code: 'timeout' } });
  t.regex(timedOut.error.detail, /still runs after 300 ms/);

  const seq = await rpc(base, 'run_process_on_node', { node_id: node.nodeId, config: { command: 'seq 1 500; echo oops >&2' } });
  const waited = await rpc(base, 'wait_process', { node_id: node.nodeId, process_id: seq.process_id, timeout_ms: 10_000 });
  t.like(waited, { status: 'success', process: { status: 'exited', exit_code: 0, stderr_bytes: 5 } });
  const expected = Array.from({ length: 500 }, (_, i) => `${i + 1}\n`).join('');
  let text = '';
  let offset = 0;
  for (let page = 0; ; page++) {
    const logs = await rpc(base, 'get_process_logs', { node_id: node.nodeId, process_id: seq.process_id, stdout_offset: offset, limit_bytes: 500 });
    t.is(logs.stdout.offset, offset);
    text += logs.stdout.data;
    offset = logs.stdout.next_offset;
    if (logs.stdout.complete) break;
    t.true(page < 10);
  }
  t.is(text, expected);

  const killed = await rpc(base, 'kill_process', { node_id: node.nodeId, process_id: slow.process_id, grace_ms: 1_000 });
  t.like(killed, { status: 'success', message: 'process killed successfully', process: { status: 'killed', signal: 'SIGTERM', exit_code: 143 } });
  const again = await rpc(base, 'kill_process', { node_id: node.nodeId, process_id: seq.process_id });
  t.like(again, { status: 'success', message: 'process had already ended', process: { status: 'exited', exit_code: 0 } });
  // A process an earlier kill ended has ended too: a second kill says so and keeps how it ended.
  const twice = await rpc(base, 'kill_process', { node_id: node.nodeId, process_id: slow.process_id });
  t.like(twice, { status: 'success', message: 'process had already ended', process: { status: 'killed', exit_code: 143 } });
});

/** A port free on 127.0.0.1 now. */
async function freePort(): Promise<number> {
  const server = http.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** Starts the real server (`main.js`) on `port` in the test's namespace; resolves once it listens. */
async function startServer(t: ExecutionContext, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, NODES_HOST: '127.0.0.1', NODES_PORT: String(port), NODES_NAMESPACE: namespace, NODES_DEFAULT_IMAGE: TEST_IMAGE, NODES_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not listen within 30 s: ${log}`)), 30_000);
    const onData = (b: Buffer) => {
      log += b.toString('utf8');
      if (log.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}: ${log}`));
    });
  });
  return child;
}

test('after the server is killed and restarted, a process started before can be read, followed to its end and killed', async (t) => {
  const node = await nodeFor(t, manager);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const first = await startServer(t, port);
  const ticking = await rpc(base, 'run_process_on_node', { node_id: node.nodeId, config: { command: gated('restart') } });
  const sleeping = await rpc(base, 'run_process_on_node', { node_id: node.nodeId, config: { command: 'sleep 1000' } });
  t.is(ticking.status, 'success');
  t.is(sleeping.status, 'success');

  first.kill('SIGKILL');
  await once(first, 'exit');
  await t.throwsAsync(fetch(base, { method: 'POST', body: '{}' }), { instanceOf: TypeError });
  await startServer(t, port);

  const read = await rpc(base, 'get_process', { node_id: node.nodeId, process_id: ticking.process_id });
  t.like(read, { status: 'success', process: { process_id: ticking.process_id, status: 'running' } });
  const following = readEvents(`${base}/nodes/${node.nodeId}/processes/${ticking.process_id}/logs?follow=1`);
  await go(node.containerId, 'restart');
  const events = await following;
  t.like(events.at(-1), { event: 'end', data: { process: { status: 'exited', exit_code: 0 } } });
  t.is(joinStream(t, events, 'stdout'), GATED_STDOUT);
  t.is(joinStream(t, events, 'stderr'), GATED_STDERR);

  const killed = await rpc(base, 'kill_process', { node_id: node.nodeId, process_id: sleeping.process_id, grace_ms: 1_000 });
  t.like(killed, { status: 'success', process: { status: 'killed', signal: 'SIGTERM', exit_code: 143 } });
  const list = await rpc(base, 'list_processes', { node_id: node.nodeId });
  t.deepEqual(list.processes.map((p: { status: string }) => p.status).sort(), ['exited', 'killed']);
});
