import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { NodesClient, NodeNotFoundError, ProcessNotFoundError, ServerUnavailableError, ValidationError, NodeError, type LogEvent } from '@nodes/client';
import { createApp } from '@nodes/server';
import { sweepNamespace, testLabels, testManager, testNamespace, useEngine } from '../helpers/engine.js';

const { manager } = useEngine(test, 'client');

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const server = createServer(createApp(manager).callback());
const tokenServer = createServer(createApp(manager, { access: { token: 's3cret' } }).callback());
let url = '';
let tokenUrl = '';
test.before(async () => {
  url = await listen(server);
  tokenUrl = await listen(tokenServer);
});
test.after.always(() => {
  server.closeAllConnections();
  server.close();
  tokenServer.close();
});

async function nodeOf(t: { teardown(fn: () => Promise<unknown>): void }, client: NodesClient) {
  const node = await client.createNode({ labels: testLabels() });
  t.teardown(() => client.removeNode(node.node_id).catch(() => undefined));
  return node;
}

test('the client drives a node through its life on the real engine, typed from the server\'s schemas', async (t) => {
  const client = new NodesClient({ url });
  const node = await nodeOf(t, client);
  t.regex(node.node_id, /^n-[0-9a-f]{12}$/);
  t.is(node.state, 'running');
  const run = await client.runProcess(node.node_id, { name: 'hi', command: 'printf "%s" "$WHO"; exit 3', env: { WHO: 'client' } });
  const done = await client.waitProcess(node.node_id, run.process_id, { timeout_ms: 20_000 });
  t.like(done, { status: 'exited', exit_code: 3 });
  const logs = await client.getProcessLogs(node.node_id, run.process_id);
  t.is(logs.stdout.data, 'client');
  t.deepEqual((await client.listProcesses(node.node_id)).map((p) => p.process_id), [run.process_id]);
  t.is((await client.getProcess(node.node_id, run.process_id)).status, 'exited');
  t.true((await client.listNodes()).some((n) => n.node_id === node.node_id));
  t.is((await client.getNode(node.node_id)).processes?.exited, 1);
  const sleeper = await client.runProcess(node.node_id, { command: 'sleep 30' });
  t.is((await client.killProcess(node.node_id, sleeper.process_id, { signal: 'KILL' })).status, 'killed');
  // The lab methods: files in and out with exact bytes, pause and unpause.
  const file = await client.writeFile(node.node_id, '/tmp/data.bin', new Uint8Array([0, 1, 2, 255]));
  t.is(file.size_bytes, 4);
  t.deepEqual([...(await client.readFile(node.node_id, '/tmp/data.bin')).data], [0, 1, 2, 255]);
  t.true((await client.listFiles(node.node_id, '/tmp')).entries.some((e) => e.name === 'data.bin'));
  await client.pauseNode(node.node_id);
  t.is((await client.getNode(node.node_id)).state, 'paused');
  await client.unpauseNode(node.node_id);
  t.is((await client.getNode(node.node_id)).state, 'running');
  const reset = await client.resetNode(node.node_id);
  t.not(reset.container_id, node.container_id);
  t.is((await client.getHealth()).health, 'good');
  t.true(Array.isArray(await client.pruneNodes()));
  await client.removeNode(node.node_id);
  await t.throwsAsync(client.getNode(node.node_id), { instanceOf: NodeNotFoundError, message: /does not exist/ });
});

test('failures throw the library\'s NodeError subclasses with the same codes', async (t) => {
  const client = new NodesClient({ url });
  const missing = await t.throwsAsync(client.removeNode('n-000000000000'), { instanceOf: NodeNotFoundError });
  t.is(missing?.code, 'node_not_found');
  t.is((missing as NodeNotFoundError).nodeId, 'n-000000000000');
  await t.throwsAsync(client.createNode({ name: 'Not A Label' }), { instanceOf: ValidationError, message: /DNS label/ });
  const node = await nodeOf(t, client);
  await t.throwsAsync(client.getProcess(node.node_id, 'p-000000000000'), { instanceOf: ProcessNotFoundError });
  await t.throwsAsync(async () => {
    for await (const _ of client.followLogs(node.node_id, 'p-000000000000')) void _;
  }, { instanceOf: ProcessNotFoundError });
});

test('a server that does not answer says to start it, with code server_unavailable', async (t) => {
  const closed = createServer();
  const deadUrl = await listen(closed);
  closed.close();
  const client = new NodesClient({ url: deadUrl });
  const error = await t.throwsAsync(client.listNodes(), { instanceOf: ServerUnavailableError, message: /ECONNREFUSED\): start the server first \(\.\/scripts\/start\)/ });
  t.is(error?.code, 'server_unavailable');
});

test('the token goes as a bearer header; without it the server answers unauthorized', async (t) => {
  t.true(Array.isArray(await new NodesClient({ url: tokenUrl, token: 's3cret' }).listNodes()));
  const error = await t.throwsAsync(new NodesClient({ url: tokenUrl, token: '' }).listNodes(), { instanceOf: NodeError });
  t.is(error?.code, 'unauthorized');
});

test('followLogs streams live output and resumes by Last-Event-ID when the connection drops, losing and repeating nothing', async (t) => {
  // A proxy that cuts the first SSE answer after its first event: the client must reconnect and resume.
  const seenIds: Array<string | undefined> = [];
  let cut = false;
  const proxy = createServer((req, res) => {
    if (req.url?.includes('/logs')) seenIds.push(req.headers['last-event-id'] as string | undefined);
    const upstream = httpRequest(`${url}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(url).host } }, (up: IncomingMessage) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      let cutting = false;
      up.on('data', (chunk: Buffer) => {
        if (cutting) return;
        res.write(chunk);
        if (req.url?.includes('/logs') && !cut && chunk.includes('event: stdout')) {
          // Let the event reach the client, then drop the connection mid-stream.
          cut = cutting = true;
          setTimeout(() => {
            res.destroy();
            up.destroy();
          }, 200);
        }
      });
      up.on('end', () => res.end());
    });
    req.pipe(upstream);
  });
  const proxyUrl = await listen(proxy);
  t.teardown(() => {
    proxy.closeAllConnections();
    proxy.close();
  });
  const client = new NodesClient({ url: proxyUrl });
  const node = await nodeOf(t, client);
  const run = await client.runProcess(node.node_id, { command: 'for i in 1 2 3 4 5 6; do echo line $i; echo err $i >&2; sleep 0.3; done' });
  const events: LogEvent[] = [];
  for await (const event of client.followLogs(node.node_id, run.process_id, { retryDelayMs: 50 })) events.push(event);
  const text = (type: string) => events.filter((e) => e.type === type).map((e) => (e as { data: string }).data).join('');
  t.is(text('stdout'), [1, 2, 3, 4, 5, 6].map((i) => `line ${i}\n`).join(''));
  t.is(text('stderr'), [1, 2, 3, 4, 5, 6].map((i) => `err ${i}\n`).join(''));
  t.like(events.at(-1), { type: 'end', process: { status: 'exited', exit_code: 0 } });
  t.true(cut);
  t.true(seenIds.length >= 2);
  t.is(seenIds[0], undefined);
  t.regex(seenIds[1] ?? '', /^\d+,\d+$/);
});

test('metrics count SSE followers while a stream is open and processes by status on the real engine', async (t) => {
  // A server and namespace of its own: the other tests' streams and nodes must not count here.
  const ownNamespace = testNamespace('client-metrics');
  t.teardown(() => sweepNamespace(ownNamespace));
  const own = createServer(createApp(testManager(ownNamespace)).callback());
  const ownUrl = await listen(own);
  t.teardown(() => {
    own.closeAllConnections();
    own.close();
  });
  const client = new NodesClient({ url: ownUrl });
  const node = await nodeOf(t, client);
  const run = await client.runProcess(node.node_id, { command: 'echo go; sleep 60; echo done' });
  const gauge = async (name: string, labels = '') => {
    const text = await (await fetch(`${ownUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
    return Number(line?.split(' ').at(-1) ?? 0);
  };
  const events = client.followLogs(node.node_id, run.process_id);
  t.like((await events.next()).value, { type: 'stdout', data: 'go\n' });
  t.is(await gauge('nodes_sse_followers'), 1);
  // Counting processes reads each node; on a loaded machine one scrape may miss it: ask until it shows (the
  // process runs for 60 s), then end the process so that the stream ends.
  let running = 0;
  for (const deadline = Date.now() + 45_000; running < 1 && Date.now() < deadline; ) {
    running = await gauge('nodes_processes', '{status="running"}');
    if (running < 1) await new Promise((r) => setTimeout(r, 250));
  }
  t.true(running >= 1);
  await client.killProcess(node.node_id, run.process_id, { grace_ms: 1_000 });
  for await (const _ of events) void _;
  let followers = -1;
  for (const deadline = Date.now() + 10_000; followers !== 0 && Date.now() < deadline; ) {
    followers = await gauge('nodes_sse_followers');
    if (followers !== 0) await new Promise((r) => setTimeout(r, 100));
  }
  t.is(followers, 0);
  t.true((await gauge('nodes_processes', '{status="killed"}')) >= 1);
});
