import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { createNodeManager, EngineUnavailableError } from '@nodes/core';
import { createApp, ServerMetrics } from '@nodes/server';
import { FakeEngine } from '../helpers/fake-engine.js';

async function serve(t: { teardown(fn: () => void): void }) {
  const engine = new FakeEngine();
  const metrics = new ServerMetrics();
  const core = createNodeManager({ namespace: 'unit' }, { engine, metrics: metrics.port });
  const server = createServer(createApp(core, { metrics }).callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, engine, metrics };
}

const call = (url: string, method: string, args?: unknown) =>
  fetch(url, { method: 'POST', body: JSON.stringify({ method, args }), headers: { 'content-type': 'application/json' } }).then((r) => r.json() as Promise<{ result: Record<string, any> }>);

async function scrape(url: string): Promise<MetricFamily[]> {
  const res = await fetch(`${url}metrics`);
  if (!res.headers.get('content-type')?.startsWith('text/plain')) throw new Error(`content type ${res.headers.get('content-type')}`);
  return parsePrometheusTextFormat(await res.text());
}

/** The value of one sample (a counter or gauge), or a histogram's count, whose labels include `labels`. */
function sample(families: MetricFamily[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  const m = family?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  return Number(m?.value ?? m?.count ?? 0);
}

async function histogramCount(metrics: ServerMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric as { values?: Array<{ metricName?: string; labels: Record<string, unknown>; value: number }> } | undefined)?.values ?? [];
  return values.find((v) => v.metricName === `${name}_count` && Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}

test('GET /metrics parses as Prometheus text and its counters, histograms and gauges move with calls', async (t) => {
  const { url, engine, metrics } = await serve(t);
  const before = await scrape(url);
  t.is(sample(before, 'nodes_requests_total', { method: 'create_node', status: '200' }), 0);
  t.is(sample(before, 'nodes_nodes', { state: 'running' }), 0);

  const a = await call(url, 'create_node');
  await call(url, 'create_node');
  await call(url, 'get_node', { node_id: 'n-000000000000' });
  await call(url, 'get_health');
  const after = await scrape(url);
  t.is(sample(after, 'nodes_requests_total', { method: 'create_node', status: '200' }), 2);
  t.is(sample(after, 'nodes_requests_total', { method: 'get_node', status: '404' }), 1);
  t.true(sample(after, 'nodes_engine_calls_total', { call: 'createContainer' }) >= 2);
  // The parser keeps histograms' buckets but not their labels: read their counts from the registry's own view.
  t.is(after.find((f) => f.name === 'nodes_request_duration_seconds')?.type, 'HISTOGRAM');
  t.is(await histogramCount(metrics, 'nodes_request_duration_seconds', { method: 'create_node', status: '200' }), 2);
  t.true((await histogramCount(metrics, 'nodes_engine_call_duration_seconds', { call: 'createContainer' })) >= 2);
  t.is(sample(after, 'nodes_nodes', { state: 'running' }), 2);
  t.is(sample(after, 'nodes_requests_total', { method: 'GET /metrics', status: '200' }), 1);
  t.truthy(after.find((f) => f.name === 'nodes_server_process_cpu_seconds_total'));

  // Engine failures are counted by call and code.
  const ping = engine.ping.bind(engine);
  engine.ping = async () => {
    throw new EngineUnavailableError('fake://engine', 'the engine does not answer');
  };
  await call(url, 'get_health');
  engine.ping = ping;
  t.is(sample(await scrape(url), 'nodes_engine_call_errors_total', { call: 'ping', code: 'engine_unavailable' }), 1);

  // The pool's gauge is set through core's metrics port.
  metrics.port.poolSize(3);
  t.is(sample(await scrape(url), 'nodes_pool_size'), 3);
  await call(url, 'remove_node', { node_id: a.result.node_id });
  t.is(sample(await scrape(url), 'nodes_nodes', { state: 'running' }), 1);
});

test('wire method names the table lacks share one series, so that callers cannot grow the metrics without bound', async (t) => {
  const { url } = await serve(t);
  for (let i = 0; i < 20; i++) await call(url, `made_up_method_${'x'.repeat(i)}`);
  await call(url, 'Create_Node');
  const families = await scrape(url);
  const methods = new Set(families.find((f) => f.name === 'nodes_requests_total')?.metrics.map((m) => m.labels?.method));
  t.is(sample(families, 'nodes_requests_total', { method: 'unknown', status: '400' }), 21);
  t.false([...methods].some((m) => m?.startsWith('made_up') || m === 'Create_Node'));
});
