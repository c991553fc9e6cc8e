import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { createNodeManager } from '@nodes/core';
import { answerClientErrors, createApp, type AccessOptions } from '@nodes/server';
import { FakeEngine } from '../helpers/fake-engine.js';

const MAIN = fileURLToPath(new URL('../../../packages/server/dist/main.js', import.meta.url));
const TOKEN = 'a-test-token-of-32-characters-xx';

/** A server on a free loopback port with these access options, over a fake engine. */
async function serve(t: { teardown(fn: () => void): void }, access: AccessOptions = {}) {
  const engine = new FakeEngine();
  const app = createApp(createNodeManager({ namespace: 'unit' }, { engine }), { access });
  const server: Server = answerClientErrors(createServer(app.callback())).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return { engine, port: (server.address() as AddressInfo).port };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: { request: unknown; result: Record<string, any> } | undefined;
}

/** One request with exactly these headers (fetch would replace `Host`, node:http sends it as given). */
function send(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'POST', path: options.path ?? '/', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** What a bare socket gets back for these raw bytes. */
async function raw(port: number, bytes: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.end(bytes);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('utf8');
}

const CREATE = JSON.stringify({ method: 'create_node', timestamp: 1 });

test('a cross-origin text/plain POST (a drive-by web page) is refused with 403 before anything runs', async (t) => {
  const { engine, port } = await serve(t);
  const res = await send(port, {
    headers: { Host: `127.0.0.1:${port}`, Origin: 'http://evil.example', 'Content-Type': 'text/plain', 'Sec-Fetch-Site': 'cross-site' },
    body: CREATE,
  });
  t.is(res.status, 403);
  t.like(res.body?.result, { status: 'failed', message: 'request failed', error: { code: 'forbidden' } });
  t.regex(res.body!.result.error.detail, /Origin "http:\/\/evil.example" may not call this server: add it to NODES_ALLOWED_ORIGINS/);
  t.is(res.headers['access-control-allow-origin'], undefined);
  t.is(engine.nodeContainers, 0);
});

test('a rebinding Host is refused; loopback names with the listening port and configured names are served', async (t) => {
  const { engine, port } = await serve(t, { allowedHosts: ['nodes.internal', 'proxy.example:9000'] });
  const status = async (host: string) => (await send(port, { headers: { Host: host }, body: '{"method":"list_nodes"}' })).status;
  for (const host of [`evil.example:${port}`, `localhost:${port + 1}`, 'localhost', `127.0.0.2:${port}`, 'proxy.example:9001', `localhost.evil.example:${port}`]) {
    t.is(await status(host), 403, host);
  }
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`, 'nodes.internal:443', 'proxy.example:9000']) {
    t.is(await status(host), 200, host);
  }
  const refused = await send(port, { headers: { Host: `evil.example:${port}` }, body: CREATE });
  t.regex(refused.body!.result.error.detail, /Host "evil.example:\d+" is not this server.*NODES_ALLOWED_HOSTS/);
  t.is(engine.nodeContainers, 0);
});

test('curl -d (form content type, no Origin) keeps working', async (t) => {
  const { engine, port } = await serve(t);
  const res = await send(port, { headers: { Host: `localhost:${port}`, 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': 'curl/8' }, body: CREATE });
  t.is(res.status, 200);
  t.like(res.body?.result, { status: 'success', message: 'node started successfully' });
  t.is(engine.nodeContainers, 1);
});

test('pages of an allowed origin and of the server itself may call with JSON, never with a simple content type', async (t) => {
  const { engine, port } = await serve(t, { allowedOrigins: ['https://dash.example:8443/'] });
  const host = `127.0.0.1:${port}`;
  const preflight = await send(port, {
    method: 'OPTIONS',
    headers: { Host: host, Origin: 'https://dash.example:8443', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,authorization' },
  });
  t.is(preflight.status, 204);
  t.is(preflight.headers['access-control-allow-origin'], 'https://dash.example:8443');
  t.regex(String(preflight.headers['access-control-allow-headers']), /Authorization/);

  const allowed = await send(port, { headers: { Host: host, Origin: 'https://dash.example:8443', 'Content-Type': 'application/json' }, body: CREATE });
  t.is(allowed.status, 200);
  t.is(allowed.headers['access-control-allow-origin'], 'https://dash.example:8443');
  const own = await send(port, { headers: { Host: host, Origin: `http://${host}`, 'Content-Type': 'application/json' }, body: CREATE });
  t.is(own.status, 200);
  t.is(engine.nodeContainers, 2);

  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    const simple = await send(port, { headers: { Host: host, Origin: 'https://dash.example:8443', 'Content-Type': type }, body: CREATE });
    t.is(simple.status, 415, type);
    t.regex(simple.body!.result.error.detail, /Content-Type: application\/json/);
  }
  const other = await send(port, { headers: { Host: host, Origin: 'https://dash.example:8444', 'Content-Type': 'application/json' }, body: CREATE });
  t.is(other.status, 403);
  const opaque = await send(port, { headers: { Host: host, Origin: 'null', 'Content-Type': 'application/json' }, body: CREATE });
  t.is(opaque.status, 403);
  const noOrigin = await send(port, { method: 'GET', path: '/nodes/n-000000000000/processes/p-000000000000/logs', headers: { Host: host, 'Sec-Fetch-Site': 'cross-site' } });
  t.is(noOrigin.status, 403);
  t.is(engine.nodeContainers, 2);
});

test('with a token every request needs the bearer token, the SSE route too; 401 in the spec\'s shape otherwise', async (t) => {
  const { engine, port } = await serve(t, { token: TOKEN });
  const host = `127.0.0.1:${port}`;
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /needs "Authorization: Bearer <token>"/],
    [{ Authorization: `Bearer ${TOKEN}x` }, /not this server's/],
    [{ Authorization: `Bearer ${TOKEN.slice(0, -1)}` }, /not this server's/],
    [{ Authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }, /needs "Authorization: Bearer <token>"/],
    [{ Authorization: TOKEN }, /needs "Authorization: Bearer <token>"/],
  ];
  for (const [headers, detail] of cases) {
    const res = await send(port, { headers: { Host: host, ...headers }, body: CREATE });
    t.is(res.status, 401, JSON.stringify(headers));
    t.is(res.headers['www-authenticate'], 'Bearer realm="nodes"');
    t.like(res.body?.result, { status: 'failed', message: 'request failed', error: { code: 'unauthorized' } });
    t.regex(res.body!.result.error.detail, detail);
  }
  const logs = await send(port, { method: 'GET', path: '/nodes/n-000000000000/processes/p-000000000000/logs', headers: { Host: host } });
  t.is(logs.status, 401);
  t.is(engine.nodeContainers, 0);

  const ok = await send(port, { headers: { Host: host, Authorization: `bearer ${TOKEN}` }, body: CREATE });
  t.is(ok.status, 200);
  const logsOk = await send(port, { method: 'GET', path: '/nodes/n-000000000000/processes/p-000000000000/logs', headers: { Host: host, Authorization: `Bearer ${TOKEN}` } });
  t.is(logsOk.status, 404);
  t.like(logsOk.body?.result, { error: { code: 'node_not_found' } });
});

test('405 answers carry Allow, OPTIONS answers 204 with Allow', async (t) => {
  const { port } = await serve(t);
  const host = `127.0.0.1:${port}`;
  const cases: Array<[string, string, string]> = [
    ['GET', '/', 'POST, OPTIONS'],
    ['PUT', '/', 'POST, OPTIONS'],
    ['PROPFIND', '/', 'POST, OPTIONS'],
    ['POST', '/nodes/n-000000000000/processes/p-000000000000/logs', 'HEAD, GET, OPTIONS'],
    ['DELETE', '/openapi.json', 'HEAD, GET, OPTIONS'],
  ];
  for (const [method, path, allow] of cases) {
    const res = await send(port, { method, path, headers: { Host: host } });
    t.is(res.status, 405, `${method} ${path}`);
    t.is(res.headers.allow, allow, `${method} ${path}`);
    t.like(res.body?.result, { status: 'failed', error: { code: 'invalid_request' } });
  }
  const options = await send(port, { method: 'OPTIONS', headers: { Host: host } });
  t.is(options.status, 204);
  t.is(options.headers.allow, 'POST, OPTIONS');
  const logsOptions = await send(port, { method: 'OPTIONS', path: '/nodes/n-000000000000/processes/p-000000000000/logs', headers: { Host: host } });
  t.is(logsOptions.status, 204);
  t.is(logsOptions.headers.allow, 'HEAD, GET, OPTIONS');
});

test('what Node\'s HTTP parser refuses (unknown verb, over-long URL, garbage) is answered as JSON in the spec\'s shape', async (t) => {
  const { port } = await serve(t);
  const cases: Array<[string, number, RegExp]> = [
    [`FLY / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 405, /HTTP method not understood/],
    [`GET /${'x'.repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 431, /larger than 16384 bytes/],
    [`POST / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nBroken header\r\n\r\n`, 400, /not valid HTTP \(HPE_/],
    [`POST / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nExpect: magic\r\nContent-Length: 2\r\n\r\n{}`, 417, /Expect: magic is not supported/],
  ];
  for (const [bytes, status, detail] of cases) {
    const answer = await raw(port, bytes);
    const [head, body] = answer.split('\r\n\r\n');
    t.regex(head!, new RegExp(`^HTTP/1.1 ${status} `), bytes.slice(0, 20));
    t.regex(head!, /Content-Type: application\/json/);
    const parsed = JSON.parse(body!) as Answer['body'];
    t.like(parsed?.result, { status: 'failed', message: 'request failed', error: { code: 'invalid_request' } });
    t.regex(parsed!.result.error.detail, detail);
    if (status === 405) t.regex(head!, /Allow: /);
  }
});

/** Runs the real server with this environment until it exits or `ms` pass; its exit code and stderr. */
async function start(env: Record<string, string>, ms = 10_000) {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, NODES_PORT: '0', DOCKER_HOST: 'unix:///nonexistent/docker.sock', NODES_LOG_LEVEL: 'silent', ...env } });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), ms);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stderr };
}

test('binding a non-loopback address without a token is refused at start with how to set one', async (t) => {
  const refused = await start({ NODES_HOST: '0.0.0.0' });
  t.is(refused.code, 1);
  t.regex(refused.stderr, /NODES_HOST=0\.0\.0\.0 is not a loopback address/);
  t.regex(refused.stderr, /NODES_TOKEN="\$\(openssl rand -hex 32\)"/);
  t.regex(refused.stderr, /NODES_TOKEN_FILE/);
  const short = await start({ NODES_TOKEN: 'short' });
  t.is(short.code, 1);
  t.regex(short.stderr, /at least 16/);
  const both = await start({ NODES_TOKEN: TOKEN, NODES_TOKEN_FILE: '/nonexistent' });
  t.regex(both.stderr, /not both/);
  const star = await start({ NODES_ALLOWED_ORIGINS: '*' });
  t.regex(star.stderr, /"\*" is not an origin/);
});

test('a token file is read, and a server started with it answers 401 without the token', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nodes-token-'));
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, NODES_PORT: '0', NODES_TOKEN_FILE: join(dir, 'token'), DOCKER_HOST: 'unix:///nonexistent/docker.sock', NODES_LOG_LEVEL: 'info' },
  });
  t.teardown(() => child.kill('SIGTERM'));
  let stdout = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`server exited: ${stdout}`)));
  });
  const without = await send(port, { headers: { Host: `127.0.0.1:${port}` }, body: '{"method":"get_health"}' });
  t.is(without.status, 401);
  const withToken = await send(port, { headers: { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${TOKEN}` }, body: '{"method":"get_health"}' });
  t.is(withToken.status, 200);
  t.like(withToken.body?.result, { status: 'success', health: 'bad' });
});
