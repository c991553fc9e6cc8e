/**
 * A stand-in for a test run, for the sweep tests: `node test/dist/helpers/hold-run.js <namespace>` makes one node
 * and one network labelled as the tests label theirs (run id from `NODES_TEST_RUN_ID`, owner mark of this
 * process), prints `{"pid", "containerId", "networkId"}` as one JSON line, then waits until it is killed,
 * removing nothing: what a crashed run leaves behind. With `runner` after the namespace it forks itself as a
 * worker with an IPC channel, as ava forks its workers, and waits too.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { docker, testLabels, testManager } from './engine.js';

const [namespace, role] = process.argv.slice(2);
if (!namespace) throw new Error('usage: hold-run.js <namespace> [runner]');
if (role === 'runner') {
  fork(fileURLToPath(import.meta.url), [namespace], { stdio: 'inherit' });
} else {
  const node = await testManager(namespace).createNode({ labels: testLabels() });
  const network = await docker.createNetwork({ Name: `${namespace}-net`, Labels: testLabels() });
  process.stdout.write(`${JSON.stringify({ pid: process.pid, containerId: node.containerId, networkId: network.id })}\n`);
}
setInterval(() => undefined, 60_000);
