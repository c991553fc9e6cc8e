import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import test from 'ava';
import { PathNotFoundError, TooLargeError, ValidationError, WrongStateError } from '@nodes/core';
import { createApp } from '@nodes/server';
import { docker, execIn, nodeFor, testManager, useEngine } from '../helpers/engine.js';

const { namespace, manager } = useEngine(test, 'files');

test('random bytes of 0 B, 1 B and 5 MiB, NUL bytes and invalid UTF-8 come back byte-exact, with their mode', async (t) => {
  const node = await nodeFor(t, manager, { name: 'store' });
  const cases: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['one', randomBytes(1)],
    ['five-mib', randomBytes(5 * 1024 * 1024)],
    ['nuls', Buffer.from([0, 0, 65, 0, 255, 0])],
    ['not-utf8', Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x80])],
  ];
  for (const [name, data] of cases) {
    const path = `/data/sub/dir/${name}.bin`;
    const written = await manager.writeFile('store', path, data, { mode: 0o640 });
    t.deepEqual(written, { path, sizeBytes: data.length, mode: 0o640 });
    const read = await manager.readFile(node.nodeId, path);
    t.true(read.data.equals(data), `${name} round-trips`);
    t.deepEqual(read.info, { path, sizeBytes: data.length, mode: 0o640 });
    // And from inside the node, not only through our own read.
    const sum = (await execIn(node.containerId, ['sha256sum', path])).stdout.split(' ')[0];
    t.is(sum, createHash('sha256').update(data).digest('hex'));
  }
  t.is((await execIn(node.containerId, ['stat', '-c', '%a %u', '/data/sub/dir'])).stdout.trim(), '755 0', 'parents made 0755, owned by root');
  const listing = await manager.listFiles('store', '/data/sub/dir');
  t.deepEqual(listing.entries.map((e) => [e.name, e.type, e.sizeBytes, e.mode]), [
    ['empty.bin', 'file', 0, 0o640],
    ['five-mib.bin', 'file', 5 * 1024 * 1024, 0o640],
    ['not-utf8.bin', 'file', 5, 0o640],
    ['nuls.bin', 'file', 6, 0o640],
    ['one.bin', 'file', 1, 0o640],
  ]);
  t.false(listing.truncated);
  t.like((await manager.listFiles('store', '/data')).entries[0], { name: 'sub', type: 'directory' });
});

test('on a node with a user, a write lands in sticky /tmp and in new parents, owned by that user, and leaves no hidden part', async (t) => {
  const node = await nodeFor(t, manager, { user: '1000:1000' });
  for (const path of ['/tmp/mine.txt', '/tmp/made/for/me.txt']) {
    await manager.writeFile(node.nodeId, path, Buffer.from('hi'));
    t.is((await manager.readFile(node.nodeId, path)).data.toString(), 'hi');
    t.is((await execIn(node.containerId, ['stat', '-c', '%u:%g', path])).stdout.trim(), '1000:1000', path);
  }
  t.is((await execIn(node.containerId, ['stat', '-c', '%u', '/tmp/made'])).stdout.trim(), '1000', 'parents the write made');
  // The node's own user can change what was written for it.
  const run = await manager.exec(node.nodeId, { command: 'printf more >> /tmp/mine.txt && cat /tmp/mine.txt' });
  t.is(run.stdout, 'himore');
  // Where the node's user may not write, the write is refused and leaves nothing behind.
  await t.throwsAsync(manager.writeFile(node.nodeId, '/etc/not-mine', Buffer.from('x')), { instanceOf: ValidationError });
  t.deepEqual((await manager.listFiles(node.nodeId, '/etc')).entries.map((e) => e.name).filter((n) => n.includes('not-mine')), []);
  // Hidden parts are named `.<name>.nodes-<8 hex>`; `/tmp/.nodes` is where the node keeps its process records.
  t.deepEqual((await manager.listFiles(node.nodeId, '/tmp')).entries.map((e) => e.name).filter((n) => /\.nodes-[0-9a-f]{8}$/.test(n)), []);
});

test('an overwrite replaces the whole file; a symbolic link is followed on read', async (t) => {
  const node = await nodeFor(t, manager);
  await manager.writeFile(node.nodeId, '/tmp/f', Buffer.from('a longer first version'));
  await manager.writeFile(node.nodeId, '/tmp/f', Buffer.from('short'));
  t.is((await manager.readFile(node.nodeId, '/tmp/f')).data.toString(), 'short');
  await execIn(node.containerId, ['ln', '-s', 'f', '/tmp/link']);
  t.is((await manager.readFile(node.nodeId, '/tmp/link')).data.toString(), 'short');
});

test('missing paths are not_found naming them; a directory, a path under a file and kernel paths are refused', async (t) => {
  const node = await nodeFor(t, manager);
  const id = node.nodeId;
  await t.throwsAsync(manager.readFile(id, '/no/such/file'), { instanceOf: PathNotFoundError, message: `"/no/such/file" does not exist on node "${id}"` });
  await t.throwsAsync(manager.listFiles(id, '/no/such/dir'), { instanceOf: PathNotFoundError, message: /"\/no\/such\/dir" does not exist/ });
  await t.throwsAsync(manager.writeFile(id, '/no/such/file', Buffer.from('x'), { createParents: false }), {
    instanceOf: PathNotFoundError,
    message: /"\/no\/such" does not exist/,
  });
  await t.throwsAsync(manager.readFile(id, '/etc'), { instanceOf: ValidationError, message: /"\/etc" on node .* is a directory/ });
  await t.throwsAsync(manager.writeFile(id, '/etc', Buffer.from('x')), { instanceOf: ValidationError, message: /is a directory/ });
  await t.throwsAsync(manager.writeFile(id, '/etc/passwd/x', Buffer.from('x')), { instanceOf: ValidationError, message: /not a directory/ });
  await t.throwsAsync(manager.readFile(id, '/etc/passwd/x'), { instanceOf: ValidationError, message: /under a file/ });
  await t.throwsAsync(manager.listFiles(id, '/etc/passwd'), { instanceOf: ValidationError, message: /is not a directory/ });
  await t.throwsAsync(manager.writeFile(id, '/proc/1/x', Buffer.from('x')), { instanceOf: ValidationError, message: /\/proc/ });
  await t.throwsAsync(manager.writeFile(id, 'relative', Buffer.from('x')), { instanceOf: ValidationError, message: /absolute/ });
  await t.throwsAsync(manager.writeFile(id, '/a/../b', Buffer.from('x')), { instanceOf: ValidationError, message: /normalized/ });
  t.is((await execIn(node.containerId, ['ls', '/no'])).exitCode === 0, false, 'a refused write made no parents');
});

test('a write whose source fails midway leaves neither the file nor a hidden part of it', async (t) => {
  const node = await nodeFor(t, manager);
  await manager.writeFile(node.nodeId, '/srv/keep', Buffer.from('old'));
  const failing = new Readable({
    read() {
      this.push(randomBytes(64 * 1024));
      setTimeout(() => this.destroy(new Error('source broke')), 20);
    },
  });
  await t.throwsAsync(manager.writeFileStream(node.nodeId, '/srv/keep', failing, 10 * 1024 * 1024));
  t.is((await manager.readFile(node.nodeId, '/srv/keep')).data.toString(), 'old', 'the old file is intact');
  t.deepEqual((await manager.listFiles(node.nodeId, '/srv')).entries.map((e) => e.name), ['keep'], 'no hidden part left');
  await t.throwsAsync(manager.writeFileStream(node.nodeId, '/srv/big', Readable.from([]), 2 * 1024 ** 3), { instanceOf: TooLargeError });
});

test('200 MiB stream in and out without holding it in memory', async (t) => {
  const node = await nodeFor(t, manager);
  const sizeBytes = 200 * 1024 * 1024;
  const chunk = randomBytes(1024 * 1024);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 20);
  t.teardown(() => clearInterval(sampler));
  const before = process.memoryUsage().arrayBuffers;
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < 200; i++) yield chunk;
    })(),
  );
  const started = Date.now();
  await manager.writeFileStream(node.nodeId, '/tmp/big', source, sizeBytes);
  const wroteMs = Date.now() - started;
  const { info, stream } = await manager.readFileStream(node.nodeId, '/tmp/big');
  t.is(info.sizeBytes, sizeBytes);
  const hash = createHash('sha256');
  let read = 0;
  for await (const c of stream) {
    hash.update(c as Buffer);
    read += (c as Buffer).length;
  }
  const expected = createHash('sha256');
  for (let i = 0; i < 200; i++) expected.update(chunk);
  t.is(read, sizeBytes);
  t.is(hash.digest('hex'), expected.digest('hex'));
  t.log(`200 MiB: written in ${wroteMs} ms, read in ${Date.now() - started - wroteMs} ms; peak buffers +${Math.round((peak - before) / 2 ** 20)} MiB`);
  t.true(peak - before < 100 * 1024 * 1024, 'never near the whole file in memory');
});

test('a stopped or paused node\'s files answer wrong_state', async (t) => {
  const node = await nodeFor(t, manager);
  await docker.getContainer(node.containerId).pause();
  await t.throwsAsync(manager.readFile(node.nodeId, '/etc/passwd'), { instanceOf: WrongStateError, message: /state: paused/ });
  await docker.getContainer(node.containerId).unpause();
});

test('write_file, read_file and list_files over HTTP: base64 both ways, 404 not_found, 413 past the limits', async (t) => {
  const own = testManager(`${namespace}-http`);
  const server = createServer(createApp(own).callback());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const call = async (method: string, args: Record<string, unknown>) => {
    const res = await fetch(url, { method: 'POST', body: JSON.stringify({ method, args }), headers: { 'content-type': 'application/json' } });
    return { status: res.status, result: ((await res.json()) as { result: Record<string, any> }).result };
  };
  await nodeFor(t, own, { name: 'web' });
  const data = Buffer.concat([randomBytes(1000), Buffer.from([0, 0, 0xff])]);
  const w = await call('write_file', { node_id: 'web', path: '/srv/www/blob', data: data.toString('base64'), mode: 0o600 });
  t.is(w.status, 200);
  t.like(w.result, { status: 'success', message: 'file written successfully', file: { path: '/srv/www/blob', size_bytes: 1003, mode: 0o600 } });
  const r = await call('read_file', { node_id: 'web', path: '/srv/www/blob' });
  t.is(r.result.encoding, 'base64');
  t.true(Buffer.from(r.result.data, 'base64').equals(data));
  const l = await call('list_files', { node_id: 'web', path: '/srv/www' });
  t.deepEqual(l.result.entries.map((e: { name: string; size_bytes: number }) => [e.name, e.size_bytes]), [['blob', 1003]]);
  const missing = await call('read_file', { node_id: 'web', path: '/nope' });
  t.is(missing.status, 404);
  t.like(missing.result, { status: 'failed', message: 'unable to read file', error: { code: 'not_found' } });
  const bad = await call('write_file', { node_id: 'web', path: '/x', data: 'not base64!' });
  t.is(bad.status, 400);
  const big = await call('write_file', { node_id: 'web', path: '/x', data: randomBytes(2 * 1024 * 1024).toString('base64') });
  t.is(big.status, 413);

  // The raw routes stream bytes both ways: 5 MiB of random bytes, no base64, no JSON body limit.
  const blob = randomBytes(5 * 1024 * 1024);
  const files = `${url}nodes/web/files?path=${encodeURIComponent('/srv/raw/blob.bin')}`;
  const put = await fetch(`${files}&mode=600`, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } });
  t.is(put.status, 200);
  t.like(await put.json(), { file: { path: '/srv/raw/blob.bin', size_bytes: blob.length, mode: 0o600 } });
  const got = await fetch(files);
  t.is(got.status, 200);
  t.is(got.headers.get('x-file-mode'), '600');
  t.true(Buffer.from(await got.arrayBuffer()).equals(blob));
  const gone = await fetch(`${url}nodes/web/files?path=/nope`);
  t.is(gone.status, 404);
  t.like(await gone.json(), { result: { status: 'failed', error: { code: 'not_found' } } });
  const chunked = await fetch(files, { method: 'PUT', body: Readable.toWeb(Readable.from([Buffer.from('x')])) as ReadableStream, duplex: 'half' } as RequestInit);
  t.is(chunked.status, 411);
});
