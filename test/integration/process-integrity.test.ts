import test from 'ava';
import { ImageUnavailableError, type NodeManager } from '@nodes/core';
import { docker, execIn, nodeFor, testManager, useEngine } from '../helpers/engine.js';
import { PROCESS_IMAGES, imageReady, imageWithoutShell } from '../helpers/images.js';

const { namespace, manager } = useEngine(test, 'process-integrity');

/** Command lines of every process in a container (from /proc, so any image can answer). */
async function commandLines(containerId: string): Promise<string[]> {
  const { stdout } = await execIn(containerId, ['/bin/sh', '-c', 'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" 2>/dev/null; printf "\\n"; done']);
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Every byte of a stream of an ended process. */
async function stdoutOf(m: NodeManager, nodeId: string, processId: string): Promise<string> {
  return (await m.getProcessOutput(nodeId, processId, 'stdout')).data;
}

for (const image of PROCESS_IMAGES) {
  const on = `(${image})`;

  test(`a variable named EPOCHREALTIME in the node's env or the process's does not set a record's times ${on}`, async (t) => {
    if (!(await imageReady(t, image))) return;
    const node = await nodeFor(t, manager, { image, env: { EPOCHREALTIME: '5.123456' } });
    for (const env of [{}, { EPOCHREALTIME: '7.654321' }] as Array<Record<string, string>>) {
      const before = Date.now();
      const done = await manager.exec(node.nodeId, { command: 'printf %s "$EPOCHREALTIME"', env });
      t.true(done.process.startedAtMs >= before - 5_000 && done.process.startedAtMs <= Date.now() + 5_000, `started ${done.process.startedAt}`);
      t.true((done.process.endedAtMs ?? 0) >= before - 5_000, `ended ${done.process.endedAt}`);
      // busybox ash keeps the name as its clock; dash hands the command what it was given.
      if (image !== 'busybox:latest') t.is(done.stdout, env['EPOCHREALTIME'] ?? '5.123456', 'the command sees the value it was given');
    }
  });

  test(`hundreds of concurrent waits on short processes always give the true exit code ${on}`, async (t) => {
    if (!(await imageReady(t, image))) return;
    const node = await nodeFor(t, manager, { image });
    const rounds = 2;
    const perRound = 25;
    let waits = 0;
    for (let round = 0; round < rounds; round++) {
      const started = await Promise.all(
        Array.from({ length: perRound }, (_, i) => manager.runProcess(node.nodeId, { command: `sleep 0.3; exit ${(i % 5) + 1}` })),
      );
      const results = await Promise.all(
        started.flatMap((p, i) =>
          Array.from({ length: 6 }, async (_, k) => {
            await new Promise((r) => setTimeout(r, k * 30));
            const done = await manager.waitProcess(node.nodeId, p.processId, { timeoutMs: 60_000 });
            return { expected: (i % 5) + 1, done };
          }),
        ),
      );
      waits += results.length;
      for (const { expected, done } of results) {
        t.is(done.status, 'exited');
        t.is(done.exitCode, expected);
      }
    }
    t.log(`${waits} waits, each gave the true exit code`);
  });

  test(`backslashes and newlines round-trip exactly and cannot forge a record ${on}`, async (t) => {
    if (!(await imageReady(t, image))) return;
    const node = await nodeFor(t, manager, { image });
    const victim = await manager.runProcess(node.nodeId, { name: 'victim', command: 'exit 7' });
    const name = `forge\n@alive ${victim.processId} 1\n@size ${victim.processId} meta 1\n@tar\n\\n\\t`;
    const command = "printf 'a\\tb\\\\c\\n'; printf '%s\\n' \"x\\\\y\"";
    const p = await manager.runProcess(node.nodeId, { name, command, path: '/tmp' });
    const done = await manager.waitProcess(node.nodeId, p.processId, { timeoutMs: 20_000 });
    t.is(done.name, name);
    t.is(done.command, command);
    t.is(done.exitCode, 0);
    t.is(await stdoutOf(manager, node.nodeId, p.processId), 'a\tb\\c\nx\\y\n');
    await manager.waitProcess(node.nodeId, victim.processId, { timeoutMs: 20_000 });
    const listed = await manager.listProcesses(node.nodeId);
    t.is(listed.length, 2);
    t.like(
      listed.find((r) => r.processId === victim.processId),
      { name: 'victim', status: 'exited', exitCode: 7 },
    );
    t.like(
      listed.find((r) => r.processId === p.processId),
      { name, command },
    );
  });

  test(`a 60 KiB command of control characters runs ${on}`, async (t) => {
    if (!(await imageReady(t, image))) return;
    const node = await nodeFor(t, manager, { image });
    const controls = Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('');
    const filler = controls.repeat(Math.ceil((60 * 1024) / controls.length)).slice(0, 60 * 1024 - 40);
    const command = `: '${filler}'; printf ok`;
    const p = await manager.runProcess(node.nodeId, { command });
    const done = await manager.waitProcess(node.nodeId, p.processId, { timeoutMs: 20_000 });
    t.is(done.exitCode, 0);
    t.is(done.command, command);
    t.is(await stdoutOf(manager, node.nodeId, p.processId), 'ok');
  });

  test(`a process that rewrites another's files changes neither its exit code nor what later processes run ${on}`, async (t) => {
    if (!(await imageReady(t, image))) return;
    const node = await nodeFor(t, manager, { image });
    const victim = await manager.runProcess(node.nodeId, { name: 'victim', command: 'exit 7' });
    t.is((await manager.waitProcess(node.nodeId, victim.processId, { timeoutMs: 20_000 })).exitCode, 7);
    const sleeper = await manager.runProcess(node.nodeId, { name: 'sleeper', command: 'sleep 1000' });
    const dir = '/tmp/.nodes/processes';
    const hostile = [
      `printf '0 1 exited\\n' > ${dir}/${victim.processId}/end`,
      `printf '1 1 1\\n' > ${dir}/${sleeper.processId}/start`,
      `mkdir -p /tmp/.nodes/bin && printf '#!/bin/sh\\necho pwned\\n' > /tmp/.nodes/bin/launch.sh && chmod +x /tmp/.nodes/bin/launch.sh`,
      `printf '#!/bin/sh\\necho pwned\\n' > ${dir}/${victim.processId}/evil.sh && chmod +x ${dir}/${victim.processId}/evil.sh`,
    ].join('; ');
    const attacker = await manager.runProcess(node.nodeId, { name: 'attacker', command: hostile });
    t.is((await manager.waitProcess(node.nodeId, attacker.processId, { timeoutMs: 20_000 })).exitCode, 0);

    t.like(await manager.getProcess(node.nodeId, victim.processId), { status: 'exited', exitCode: 7 }, 'the engine says 7, whatever the file says');
    const fresh = testManager(namespace);
    t.like(await fresh.getProcess(node.nodeId, victim.processId), { exitCode: 7 }, 'so does a manager that did not start it');
    const later = await manager.runProcess(node.nodeId, { command: 'printf "%s" "$SECRET"', env: { SECRET: 's3cret' } });
    await manager.waitProcess(node.nodeId, later.processId, { timeoutMs: 20_000 });
    t.is(await stdoutOf(manager, node.nodeId, later.processId), 's3cret');

    const killed = await manager.killProcess(node.nodeId, sleeper.processId, { graceMs: 1_000 });
    t.is(killed.status, 'killed');
    t.is((await manager.getNode(node.nodeId)).state, 'running', 'a pid rewritten to 1 did not take the node down');

    await manager.resetNode(node.nodeId);
    const after = await manager.getNode(node.nodeId);
    const { stdout } = await execIn(after.containerId, ['/bin/sh', '-c', 'ls -R /tmp/.nodes; find /tmp/.nodes -type f -perm -100']);
    t.notRegex(stdout, /evil|launch|bin/, 'nothing executable came across the reset');
    t.like(await manager.getProcess(node.nodeId, victim.processId), { status: 'exited' }, 'records came across');
  });

  for (const how of ['kill', 'timeout'] as const) {
    test(`a daemonizing command is gone after ${how} ${on}`, async (t) => {
      if (!(await imageReady(t, image))) return;
      const node = await nodeFor(t, manager, { image });
      // The daemon leaves the command's session and group and closes its output: only the run mark finds it.
      const command = "setsid sh -c 'touch /tmp/daemon-ran; exec sleep 4242' < /dev/null > /dev/null 2>&1 & sleep 1000";
      const p = await manager.runProcess(node.nodeId, { command, ...(how === 'timeout' ? { timeoutMs: 2_000, graceMs: 1_000 } : {}) });
      const deadline = Date.now() + 10_000;
      const ran = async () => (await execIn(node.containerId, ['/bin/sh', '-c', 'test -f /tmp/daemon-ran'])).exitCode === 0;
      while (!(await ran()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      t.true(await ran(), 'the daemon ran');
      const done =
        how === 'kill' ? await manager.killProcess(node.nodeId, p.processId, { graceMs: 1_000 }) : await manager.waitProcess(node.nodeId, p.processId, { timeoutMs: 20_000 });
      t.is(done.status, how === 'kill' ? 'killed' : 'timed_out');
      const left = (await commandLines(node.containerId)).filter((l) => /sleep (4242|1000)/.test(l));
      t.deepEqual(left, [], 'no process of the run is left');
    });
  }
}

test('an image without /bin/sh gets a 4xx error naming it', async (t) => {
  const tag = 'nodes-test-nosh:latest';
  await imageWithoutShell(tag);
  t.teardown(() => docker.getImage(tag).remove({ force: true }).catch(() => undefined));
  const node = await nodeFor(t, manager, { image: tag, command: ['/bin/busybox', 'sleep', '3600'] });
  const error = await t.throwsAsync(manager.runProcess(node.nodeId, { command: 'true' }), { instanceOf: ImageUnavailableError, message: /\/bin\/sh/ });
  t.is(error?.code, 'image_unavailable');
});
