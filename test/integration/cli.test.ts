import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { createApp } from '@nodes/server';
import { TEST_IMAGE, testLabels, useEngine } from '../helpers/engine.js';

const { namespace, manager } = useEngine(test, 'cli');
const CLI = fileURLToPath(new URL('../../../packages/cli/dist/main.js', import.meta.url));
const server = createServer(createApp(manager).callback());
let url = '';
test.before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after.always(() => {
  server.closeAllConnections();
  server.close();
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `nodes …` as a user would, against the test's server unless `env` says otherwise. */
function nodes(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, NODES_URL: url, NODES_TOKEN: '', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const labelFlags = () => Object.entries(testLabels()).flatMap(([k, v]) => ['-l', `${k}=${v}`]);

async function created(t: { teardown(fn: () => Promise<unknown>): void }, name: string): Promise<string> {
  const ran = await nodes(['create', '--name', name, ...labelFlags()]);
  if (ran.code !== 0) throw new Error(`nodes create failed: ${ran.stderr}`);
  const nodeId = ran.stdout.trim();
  t.teardown(() => manager.removeNode(nodeId).catch(() => undefined));
  return nodeId;
}

test('a session: create, exec with its exit code, ls --json, ps, logs -f of a running process, kill, rm', async (t) => {
  const nodeId = await created(t, 'a');
  t.regex(nodeId, /^n-[0-9a-f]{12}$/);
  const exec = await nodes(['exec', 'a', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
  t.is(exec.code, 3);
  t.is(exec.stdout, 'hi\n');
  t.is(exec.stderr, 'oops\n');
  const ls = await nodes(['ls', '--json']);
  t.is(ls.code, 0);
  t.like((JSON.parse(ls.stdout) as Array<{ node_id: string }>).find((n) => n.node_id === nodeId), { name: 'a', state: 'running' });
  t.regex((await nodes(['ls'])).stdout, /^NODE ID\s+NAME\s+IMAGE\s+STATE/);

  const ticker = await manager.runProcess(nodeId, { name: 'ticker', command: 'for i in 1 2 3 4 5; do echo tick $i; sleep 0.4; done' });
  const logs = await nodes(['logs', 'a', ticker.processId, '-f']);
  t.is(logs.code, 0);
  t.is(logs.stdout, 'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
  t.is((await nodes(['logs', nodeId, 'ticker'])).stdout, logs.stdout);
  const ps = await nodes(['ps', 'a']);
  t.regex(ps.stdout, new RegExp(`${ticker.processId}\\s+ticker\\s+exited\\s+0`));

  const sleeper = await manager.runProcess(nodeId, { name: 'sleeper', command: 'sleep 60' });
  const killed = await nodes(['kill', 'a', 'sleeper', '--json']);
  t.like(JSON.parse(killed.stdout), { process_id: sleeper.processId, status: 'killed' });

  const rm = await nodes(['rm', 'a']);
  t.is(rm.code, 0);
  t.is(rm.stdout.trim(), nodeId);
  t.false((JSON.parse((await nodes(['ls', '--json'])).stdout) as Array<{ node_id: string }>).some((n) => n.node_id === nodeId));
});

test('Ctrl-C during exec kills the process in the node and exits with its status', async (t) => {
  const nodeId = await created(t, 'interrupted');
  const child = spawn(process.execPath, [CLI, 'exec', 'interrupted', '--', 'sh', '-c', 'echo started; sleep 60; echo never'], { env: { ...process.env, NODES_URL: url } });
  let stdout = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  while (!stdout.includes('started')) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number];
  t.is(code, 143);
  t.false(stdout.includes('never'));
  const [record] = await manager.listProcesses(nodeId);
  t.like(record, { status: 'killed', exitCode: 143 });
});

test('bad input on every path is one line with the error code and a non-zero exit, never a stack', async (t) => {
  const cases: Array<[string[], Record<string, string>, number, RegExp]> = [
    [['rm', 'no-such-node'], {}, 1, /^nodes: error node_not_found: node "no-such-node" does not exist/],
    [['exec', 'n-000000000000', '--', 'true'], {}, 1, /^nodes: error node_not_found: /],
    [['create', '--bogus'], {}, 2, /^nodes: error invalid_usage: unknown option '--bogus'/],
    [['create', '--name', 'Bad Name'], {}, 1, /^nodes: error validation_failed: .*DNS label/],
    [['create', '-p', 'abc'], {}, 2, /^nodes: error invalid_usage: .*port "abc"/],
    [['frobnicate'], {}, 2, /^nodes: error invalid_usage: unknown command 'frobnicate'/],
    [['ls'], { NODES_URL: 'http://127.0.0.1:9' }, 1, /^nodes: error server_unavailable: .*start the server first \(\.\/scripts\/start\)/],
  ];
  for (const [args, env, code, line] of cases) {
    const ran = await nodes(args, env);
    t.is(ran.code, code, args.join(' '));
    t.regex(ran.stderr, line, args.join(' '));
    t.is(ran.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${ran.stderr}`);
    t.notRegex(ran.stderr, /\n\s+at /);
  }
});

test('--help works on every command', async (t) => {
  for (const command of [[], ['ls'], ['create'], ['rm'], ['reset'], ['exec'], ['ps'], ['logs'], ['kill'], ['health'], ['prune']]) {
    const ran = await nodes([...command, '--help']);
    t.is(ran.code, 0, command.join(' '));
    t.regex(ran.stdout, /^Usage: nodes/, command.join(' '));
  }
});

test('--local uses the library in-process, reading NODES_NAMESPACE as the server does', async (t) => {
  const nodeId = await created(t, 'local-seen');
  const ran = await nodes(['--local', 'ls', '--json'], { NODES_URL: 'http://127.0.0.1:9', NODES_NAMESPACE: namespace, NODES_DEFAULT_IMAGE: TEST_IMAGE });
  t.is(ran.code, 0, ran.stderr);
  t.true((JSON.parse(ran.stdout) as Array<{ node_id: string }>).some((n) => n.node_id === nodeId));
  const health = await nodes(['health', '--local', '--json'], { NODES_NAMESPACE: namespace });
  t.like(JSON.parse(health.stdout), { health: 'good' });
});
