import test from 'ava';
import { pack } from 'tar-stream';
import { parseRecordDump } from '@nodes/core/internal/record-dump';
import { toRecord } from '@nodes/core/internal/process-records';

const A = 'p-aaaaaaaaaaaa';
const B = 'p-bbbbbbbbbbbb';

/** A `print_records` answer: header lines, then a tar of the given files. */
async function dump(lines: string[], files: Record<string, string | Buffer>): Promise<Buffer> {
  const tar = pack();
  for (const [name, data] of Object.entries(files)) tar.entry({ name }, typeof data === 'string' ? Buffer.from(data) : data);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const c of tar) chunks.push(c as Buffer);
  return Buffer.concat([Buffer.from(lines.map((l) => `${l}\n`).join('') + '@tar\n'), ...chunks]);
}

const meta = (name: string) => JSON.stringify({ name, command: 'x', path: '/', envKeys: [] });

test('a name holding record lines forges nothing: contents travel in the tar, lines hold only ids and numbers', async (t) => {
  const forged = `x\n@alive ${B} 1\n@size ${B} end 9\n@tar\n`;
  const records = await parseRecordDump(
    await dump([`@alive ${A} 0`, `@alive ${B} 0`], {
      [`${A}/meta`]: meta(forged),
      [`${A}/end`]: '0 1000 exited\n',
      [`${B}/meta`]: meta('victim'),
      [`${B}/end`]: '7 1000 exited\n',
    }),
  );
  t.is(toRecord('n-1', A, records.get(A)!, 1024).name, forged);
  t.like(toRecord('n-1', B, records.get(B)!, 1024), { name: 'victim', exitCode: 7, status: 'exited' });
});

test('the engine beats the files: a running exec wins over a written end, an ended exec gives the exit code', async (t) => {
  const records = await parseRecordDump(await dump([`@alive ${A} 0`], { [`${A}/meta`]: meta('a'), [`${A}/end`]: '0 1000 exited\n' }));
  const raw = records.get(A)!;
  t.like(toRecord('n-1', A, raw, 1024, { running: true }), { status: 'running', exitCode: undefined });
  t.like(toRecord('n-1', A, raw, 1024, { running: false, exitCode: 3 }), { status: 'exited', exitCode: 3 });
  t.like(toRecord('n-1', A, raw, 1024), { status: 'exited', exitCode: 0 }, 'without the engine, the file');
});

test('lost only when the supervisor was not alive and no end was written; a malformed end is no end', async (t) => {
  const records = await parseRecordDump(
    await dump([`@alive ${A} 1`, `@alive ${B} 0`], { [`${A}/meta`]: meta('a'), [`${B}/meta`]: meta('b'), [`${B}/end`]: 'garbage\n' }),
  );
  t.like(toRecord('n-1', A, records.get(A)!, 1024), { status: 'running' });
  t.like(toRecord('n-1', B, records.get(B)!, 1024), { status: 'lost', exitCode: 137, signal: 'SIGKILL' });
});

test('an oversized or foreign meta is named in error, the rest of the record still reads; a cut tar keeps what came before', async (t) => {
  const whole = await dump([`@alive ${A} 0`, `@size ${A} meta 314572800`, `@alive ${B} 0`], {
    [`${A}/end`]: '143 1000 killed\n',
    [`${B}/meta`]: '{"not": "ours"}',
  });
  const records = await parseRecordDump(whole);
  const big = toRecord('n-1', A, records.get(A)!, 1024);
  t.like(big, { status: 'killed', exitCode: 143 });
  t.regex(big.error ?? '', /314572800 bytes, over the 1048576-byte bound/);
  t.regex(toRecord('n-1', B, records.get(B)!, 1024).error ?? '', /not what the manager wrote/);
  const cut = await parseRecordDump(whole.subarray(0, whole.length - 1200));
  t.true(cut.has(A) && cut.has(B), 'the listing survives a tar cut short');
});
