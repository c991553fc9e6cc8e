import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { docker, requireEngine, sweepNamespace, testNamespace, TEST_OWNER_LABEL, TEST_RUN_LABEL } from '../helpers/engine.js';
import { ownerMark, runIsGone } from '../helpers/test-runs.js';

const helper = (name: string) => fileURLToPath(new URL(`../helpers/${name}.js`, import.meta.url));

test.before(requireEngine);

interface HeldRun {
  runId: string;
  /** the process started: the run itself, or its runner */
  child: ChildProcess;
  /** the process that made the node and network */
  pid: number;
  containerId: string;
  networkId: string;
}

/** Starts a stand-in test run with its own run id and waits until it has made its node and network. */
async function holdRun(t: ExecutionContext, runId: string, role: 'alone' | 'runner'): Promise<HeldRun> {
  const namespace = testNamespace(`runs-${runId}`);
  const args = [helper('hold-run'), namespace, ...(role === 'runner' ? ['runner'] : [])];
  const child = spawn(process.execPath, args, { env: { ...process.env, NODES_TEST_RUN_ID: runId }, stdio: ['ignore', 'pipe', 'inherit'] });
  let pid = 0;
  t.teardown(async () => {
    child.kill('SIGKILL');
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sweepNamespace(namespace);
    await docker.getNetwork(`${namespace}-net`).remove().catch(() => undefined);
  });
  const [line] = (await once(child.stdout!.setEncoding('utf8'), 'data')) as [string];
  const made = JSON.parse(line) as Omit<HeldRun, 'runId' | 'child'>;
  pid = made.pid;
  return { runId, child, ...made };
}

const byRun = (runId: string) => JSON.stringify({ label: [`${TEST_RUN_LABEL}=${runId}`] });
const leftOf = async (runId: string) => [
  ...(await docker.listContainers({ all: true, filters: byRun(runId) })),
  ...(await docker.listNetworks({ filters: byRun(runId) })),
];

/** The sweep as ./scripts/test runs it, in a process of its own. */
function sweep(t: ExecutionContext): void {
  const result = spawnSync(process.execPath, [helper('sweep-runs')], { encoding: 'utf8', timeout: 60_000 });
  t.log(result.stderr.trim());
  t.is(result.status, 0);
}

async function kill9(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  await once(child, 'exit');
}

test('after kill -9 of a run or of its runner, a sweep removes its node and network and leaves a live run alone', async (t) => {
  const suffix = Date.now().toString(36);
  const [dead, orphaned, live] = await Promise.all([
    holdRun(t, `run-dead-${suffix}`, 'alone'),
    holdRun(t, `run-orphan-${suffix}`, 'runner'),
    holdRun(t, `run-live-${suffix}`, 'runner'),
  ]);
  await kill9(dead.child);
  // As when ava's main process is killed: its worker lives on, an orphan that nobody reads.
  await kill9(orphaned.child);
  t.notThrows(() => process.kill(orphaned.pid, 0));

  sweep(t);
  t.deepEqual(await leftOf(dead.runId), []);
  t.deepEqual(await leftOf(orphaned.runId), []);
  t.is((await docker.getContainer(live.containerId).inspect()).State.Status, 'running');
  t.truthy(await docker.getNetwork(live.networkId).inspect());

  // Once the live run ends too, the next sweep takes what it left.
  await kill9(live.child);
  sweep(t);
  t.deepEqual(await leftOf(live.runId), []);
});

test('a run is alive while its processes are, and gone after a reboot, a pid reuse or an hour without a mark', (t) => {
  const now = Date.now();
  const mark = ownerMark();
  const [boot, pidns, ...processes] = mark.split(':');
  const marked = (...parts: string[]) => ({ [TEST_OWNER_LABEL]: parts.join(':') });
  t.false(runIsGone(marked(mark), now));
  t.true(runIsGone(marked(`${boot}x`, pidns!, ...processes), now));
  t.true(runIsGone(marked(boot!, pidns!, processes[0]!, `${processes[1]}1`), now));
  t.true(runIsGone(marked(mark, '1', '1'), now), 'a parent that is not the one marked');
  t.false(runIsGone({ [TEST_RUN_LABEL]: 'run-old' }, now - 60_000, now));
  t.true(runIsGone({ [TEST_RUN_LABEL]: 'run-old' }, now - 2 * 60 * 60 * 1000, now));
  t.false(runIsGone(marked(boot!, '1', ...processes), now - 60_000, now), 'another pid namespace: not judged while young');
});
