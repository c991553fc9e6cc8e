import test from 'ava';
import { RecordBatcher } from '@nodes/core/internal/record-batch';
import { SafetyTicks } from '@nodes/core/internal/waiting';
import type { ProcessRecord } from '@nodes/core';

const record = (processId: string) => ({ processId, status: 'running' }) as unknown as ProcessRecord;

test('reads of one node asked for together cost one read, of all their ids; other nodes read apart', async (t) => {
  const reads: Array<[string, string[]]> = [];
  const batcher = new RecordBatcher(async (nodeId, ids) => {
    reads.push([nodeId, ids]);
    return ids.filter((id) => id !== 'p-gone').map(record);
  });
  const answers = await Promise.all([
    batcher.get('n-1', 'p-a'),
    batcher.get('n-1', 'p-b'),
    batcher.get('n-1', 'p-a'),
    batcher.get('n-1', 'p-gone'),
    batcher.get('n-2', 'p-c'),
  ]);
  t.deepEqual(answers.map((r) => r?.processId), ['p-a', 'p-b', 'p-a', undefined, 'p-c']);
  t.deepEqual(reads, [
    ['n-1', ['p-a', 'p-b', 'p-gone']],
    ['n-2', ['p-c']],
  ]);
});

test('a read asked for while one runs joins it for its own process, else waits for the next, which takes all that came meanwhile', async (t) => {
  const reads: string[][] = [];
  let release = () => {};
  const batcher = new RecordBatcher(async (_nodeId, ids) => {
    reads.push(ids);
    if (reads.length === 1) await new Promise<void>((r) => (release = r));
    return ids.map(record);
  });
  const first = batcher.get('n-1', 'p-a');
  await new Promise((r) => setImmediate(r));
  t.is(reads.length, 1);
  const joined = batcher.get('n-1', 'p-a');
  const later = [batcher.get('n-1', 'p-b'), batcher.get('n-1', 'p-c')];
  await new Promise((r) => setTimeout(r, 20));
  t.is(reads.length, 1, 'the next read waits for the running one');
  release();
  t.is((await first)?.processId, 'p-a');
  t.is((await joined)?.processId, 'p-a');
  t.deepEqual((await Promise.all(later)).map((r) => r?.processId), ['p-b', 'p-c']);
  t.deepEqual(reads, [['p-a'], ['p-b', 'p-c']]);
});

test('a failed read fails every process it covered, and the next read starts afresh', async (t) => {
  let fail = true;
  const batcher = new RecordBatcher(async (_nodeId, ids) => {
    if (fail) throw new Error('node gone');
    return ids.map(record);
  });
  const results = await Promise.allSettled([batcher.get('n-1', 'p-a'), batcher.get('n-1', 'p-b')]);
  t.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  fail = false;
  t.is((await batcher.get('n-1', 'p-a'))?.processId, 'p-a');
});

test('the waits of one container share the safety tick of the first of them; a cancelled wait is not woken', async (t) => {
  const ticks = new SafetyTicks(40);
  const woken: Array<[string, number]> = [];
  const started = Date.now();
  const at = (name: string) => () => woken.push([name, Date.now() - started]);
  ticks.next('c-1', at('a'));
  await new Promise((r) => setTimeout(r, 20));
  const cancel = ticks.next('c-1', at('b'));
  ticks.next('c-1', at('c'));
  cancel();
  ticks.next('c-2', at('d'))();
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(woken.map(([name]) => name), ['a', 'c']);
  t.true(woken[1]![1] < 80, `the later wait is woken at the tick of the first (${woken[1]![1]} ms)`);
  ticks.next('c-1', at('e'));
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(woken.map(([name]) => name), ['a', 'c', 'e'], 'a wait after a tick gets the next one');
});
