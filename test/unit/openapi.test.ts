import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createNodeManager } from '@nodes/core';
import { createApp, METHODS } from '@nodes/server';
import { FakeEngine } from '../helpers/fake-engine.js';

async function serve(t: { teardown(fn: () => void): void }) {
  const server = createServer(createApp(createNodeManager({ namespace: 'unit' }, { engine: new FakeEngine() })).callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

type Doc = { paths: Record<string, any>; components: { schemas: Record<string, any> } };

async function documentOf(url: string): Promise<Doc> {
  const res = await fetch(`${url}openapi.json`);
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
  return (await res.json()) as Doc;
}

/** Validates `value` against one of the document's component schemas, with the document's refs resolvable. */
function checker(doc: Doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
  return (name: string, value: unknown) => {
    const validate = ajv.compile({ $ref: `doc#/components/schemas/${name}` });
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

test('GET /openapi.json is a valid OpenAPI 3.1 document', async (t) => {
  const doc = await documentOf(await serve(t));
  const result = await new Validator().validate(doc as never);
  t.deepEqual(result.errors ?? [], []);
  t.true(result.valid);
  t.is((doc as unknown as { openapi: string }).openapi, '3.1.0');
});

test('the document lists exactly the methods the server dispatches, each with args and result schemas', async (t) => {
  const url = await serve(t);
  const doc = await documentOf(url);
  const post = doc.paths['/']!.post;
  const mapping = post.requestBody.content['application/json'].schema.discriminator.mapping as Record<string, string>;
  t.deepEqual(Object.keys(mapping).sort(), Object.keys(METHODS).sort());
  t.deepEqual(Object.keys(post['x-methods']).sort(), Object.keys(METHODS).sort());
  for (const name of Object.keys(mapping)) {
    for (const part of ['args', 'result', 'request', 'response']) t.truthy(doc.components.schemas[`${name}_${part}`], `${name}_${part}`);
    // Every documented method is one the server knows: never answered unknown_method.
    const res = await fetch(url, { method: 'POST', body: JSON.stringify({ method: name, args: { bogus: 1 } }), headers: { 'content-type': 'application/json' } });
    const body = (await res.json()) as { result: { error?: { code: string } } };
    t.not(body.result.error?.code, 'unknown_method', name);
  }
  const unknown = await fetch(url, { method: 'POST', body: '{"method":"not_in_document"}', headers: { 'content-type': 'application/json' } });
  t.is(unknown.status, 400);
});

test('every failure status is documented with the codes it answers', async (t) => {
  const doc = await documentOf(await serve(t));
  const responses = doc.paths['/']!.post.responses as Record<string, { description: string }>;
  for (const [status, code] of [['400', 'validation_failed'], ['404', 'node_not_found'], ['409', 'wrong_state'], ['503', 'engine_unavailable'], ['504', 'timeout'], ['413', 'invalid_request']] as const) {
    t.regex(responses[status]?.description ?? '', new RegExp(code), status);
  }
  t.truthy(doc.paths['/nodes/{node_id}/processes/{process_id}/logs']?.get.responses['200'].content['text/event-stream']);
});

test('real answers validate against the document: requests, successes and failures', async (t) => {
  const url = await serve(t);
  const check = checker(await documentOf(url));
  const call = async (method: string, args?: Record<string, unknown>) => {
    const request = { method, ...(args ? { args } : {}), timestamp: 1.5 };
    t.deepEqual(check(`${method}_request`, request), [], `${method} request`);
    const res = await fetch(url, { method: 'POST', body: JSON.stringify(request), headers: { 'content-type': 'application/json' } });
    return { status: res.status, body: (await res.json()) as { result: Record<string, any> } };
  };
  const created = await call('create_node', { name: 'web', env: { A: '1' } });
  t.deepEqual(check('create_node_response', created.body), []);
  const nodeId = created.body.result.node_id as string;
  for (const [method, args] of [['get_node', { node_id: nodeId }], ['list_nodes', undefined], ['get_health', undefined], ['reset_node', { node_id: nodeId }], ['prune_nodes', undefined], ['remove_node', { node_id: nodeId }]] as const) {
    const { status, body } = await call(method, args);
    t.is(status, 200, method);
    t.deepEqual(check(`${method}_response`, body), [], method);
  }
  const failed = await call('get_node', { node_id: nodeId });
  t.is(failed.status, 404);
  t.deepEqual(check('Failure', failed.body), []);
  // A result that breaks its schema is caught: the check is not vacuous.
  t.notDeepEqual(check('get_node_response', { request: {}, result: { status: 'success', message: 'x', node_id: nodeId, node: { state: 'flying' } } }), []);
});

test('the raw file routes are documented, their query from the route\'s own schema', async (t) => {
  const doc = await documentOf(await serve(t));
  const files = doc.paths['/nodes/{node_id}/files'];
  t.truthy(files?.get.responses['200'].content['application/octet-stream']);
  t.truthy(files?.put.requestBody.content['application/octet-stream']);
  const params = Object.fromEntries((files?.parameters as Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>).map((p) => [p.name, p]));
  t.like(params, { node_id: { in: 'path', required: true }, path: { in: 'query', required: true }, mode: { in: 'query', required: false }, create_parents: { in: 'query' } });
  t.deepEqual([...(params.create_parents?.schema.enum as string[])].sort(), ['0', '1', 'false', 'true']);
});
