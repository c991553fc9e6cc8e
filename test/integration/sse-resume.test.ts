import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { createApp } from '@nodes/server';
import { nodeFor, useEngine } from '../helpers/engine.js';

const { manager } = useEngine(test, 'sse-resume');

test('a Last-Event-ID or offset past the output written is a 400; one within it resumes there', async (t) => {
  const node = await nodeFor(t, manager);
  const run = await manager.runProcess(node.nodeId, { name: 'abc', path: '/', command: 'printf abc; printf e >&2', env: {} });
  await manager.waitProcess(node.nodeId, run.processId, { timeoutMs: 30_000 });
  const server = createServer(createApp(manager).callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/nodes/${node.nodeId}/processes/${run.processId}/logs`;

  for (const [headers, query] of [[{ 'Last-Event-ID': '4,0' }, ''], [{ 'Last-Event-ID': '0,2' }, ''], [{}, '?stdout_offset=99']] as const) {
    const res = await fetch(`${url}${query}`, { headers });
    t.is(res.status, 400, JSON.stringify(headers) + query);
    const body = (await res.json()) as { result: { error: { code: string; detail: string } } };
    t.like(body.result.error, { code: 'invalid_request' });
    t.regex(body.result.error.detail, /past the process's output \(3 bytes of stdout, 1 of stderr\)/);
  }
  const resumed = await fetch(url, { headers: { 'Last-Event-ID': '2,1' } });
  t.is(resumed.status, 200);
  const text = await resumed.text();
  t.regex(text, /event: stdout\ndata: \{"data":"c","encoding":"utf8","offset":2\}/);
  t.notRegex(text, /event: stderr/);
  t.regex(text, /event: end/);
});
