import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { createNodeManager, type NodeManager } from '@nodes/core';
import { createApp } from '@nodes/server';
import { FakeEngine } from '../helpers/fake-engine.js';

async function serve(t: { teardown(fn: () => void): void }, core: NodeManager): Promise<string> {
  const server: Server = createServer(createApp(core).callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

const post = async (url: string, body: string) => {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as { request: unknown; result: Record<string, any> } };
};

test('create_node answers the spec\'s success shape with the request echoed and the node id', async (t) => {
  const engine = new FakeEngine();
  const url = await serve(t, createNodeManager({ namespace: 'unit' }, { engine }));
  const request = { method: 'create_node', timestamp: 1700000000.25 };
  const { status, body } = await post(url, JSON.stringify(request));
  t.is(status, 200);
  t.deepEqual(body.request, request);
  t.like(body.result, { status: 'success', message: 'node started successfully' });
  t.regex(body.result.node_id, /^n-[0-9a-f]{12}$/);
  t.is(engine.nodeContainers, 1);
});

test('the spec\'s messages stay on failure, with an error code and a reason', async (t) => {
  const url = await serve(t, createNodeManager({ namespace: 'unit' }, { engine: new FakeEngine() }));
  const cases: Array<[string, number, string, string, RegExp]> = [
    ['{"method":"remove_node","args":{"node_id":"n-000000000000"}}', 404, 'Node failed to be killed', 'node_not_found', /does not exist/],
    ['{"method":"reset_node","args":{}}', 400, 'node failed to be reset', 'validation_failed', /node_id/],
    ['{"method":"run_process_on_node","args":{"node_id":"n-000000000000","config":{"command":"true","path":"rel"}}}', 400, 'process failed to start', 'validation_failed', /absolute path/],
    ['{"method":"create_node","args":{"imag":"x"}}', 400, 'node failed to start', 'validation_failed', /imag/],
    ['{"method":"fly_to_moon"}', 400, 'request failed', 'unknown_method', /unknown method "fly_to_moon"/],
    ['{"method":', 400, 'request failed', 'invalid_request', /not valid JSON/],
    ['[1,2]', 400, 'request failed', 'validation_failed', /invalid request/],
    ['null', 400, 'request failed', 'invalid_request', /request body must be a JSON object/],
    ['{"method":"get_health","timestamp":"yesterday"}', 400, 'request failed', 'validation_failed', /timestamp/],
    [`{"method":"get_health","x":${'['.repeat(5000)}${']'.repeat(5000)}}`, 400, 'request failed', 'invalid_request', /nested deeper than 64 levels/],
  ];
  for (const [body, status, message, code, detail] of cases) {
    const res = await post(url, body);
    t.is(res.status, status, body);
    t.is(res.body.result.status, 'failed', body);
    t.is(res.body.result.message, message, body);
    t.is(res.body.result.error.code, code, body);
    t.regex(res.body.result.error.detail, detail, body);
  }
});

test('routing, header and body mistakes answer 400, 404, 405 and 413 in the spec\'s JSON shape, never HTML', async (t) => {
  const url = await serve(t, createNodeManager({ namespace: 'unit' }, { engine: new FakeEngine() }));
  const cases: Array<[string, RequestInit, number, RegExp]> = [
    [`${url}nowhere`, {}, 404, /no route for GET \/nowhere/],
    [url, { method: 'GET' }, 405, /method not allowed/],
    [url, { method: 'PUT', body: '{}' }, 405, /method not allowed/],
    [`${url}nodes/n-000000000000/processes/p-000000000000/logs`, { method: 'POST' }, 405, /logs with GET/],
    [`${url}nodes/n-000000000000/processes/p-000000000000/logs`, { headers: { 'Last-Event-ID': 'abc' } }, 400, /Last-Event-ID must be "<stdout offset>,<stderr offset>"/],
    [url, { method: 'POST', body: JSON.stringify({ method: 'get_health', pad: 'x'.repeat(1024 * 1024) }) }, 413, /larger than 1048576 bytes/],
  ];
  for (const [target, init, status, detail] of cases) {
    const res = await fetch(target, init);
    t.is(res.status, status, `${init.method ?? 'GET'} ${target}`);
    t.regex(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as { result: { status: string; error: { code: string; detail: string } } };
    t.like(body, { result: { status: 'failed', error: { code: 'invalid_request' } } });
    t.regex(body.result.error.detail, detail);
  }
});

test('get_health reports an engine that does not answer as bad, naming the endpoint', async (t) => {
  const url = await serve(t, createNodeManager({ namespace: 'unit', dockerHost: 'unix:///nonexistent/docker.sock', engineTimeoutMs: 2000 }));
  const { status, body } = await post(url, '{"method":"get_health","timestamp":1}');
  t.is(status, 200);
  t.is(body.result.health, 'bad');
  t.is(body.result.reasons[0].code, 'engine_unavailable');
  t.regex(body.result.reasons[0].message, /unix:\/\/\/nonexistent\/docker\.sock/);
});

test('a call on an engine that does not answer fails with engine_unavailable and HTTP 503', async (t) => {
  const url = await serve(t, createNodeManager({ namespace: 'unit', dockerHost: 'unix:///nonexistent/docker.sock' }));
  const { status, body } = await post(url, '{"method":"create_node"}');
  t.is(status, 503);
  t.like(body.result, { status: 'failed', message: 'node failed to start', error: { code: 'engine_unavailable' } });
});
