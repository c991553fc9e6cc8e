import test from 'ava';
import { incompleteUtf8Tail, toChunk } from '@nodes/core/internal/output-slices';

const euro = Buffer.from('€'); // e2 82 ac

test('a character cut at a slice end is left for the next slice', (t) => {
  t.is(incompleteUtf8Tail(Buffer.concat([Buffer.from('a'), euro.subarray(0, 2)])), 2);
  t.is(incompleteUtf8Tail(Buffer.concat([Buffer.from('a'), euro])), 0);
  t.is(incompleteUtf8Tail(Buffer.from('abc')), 0);
  const chunk = toChunk({ offset: 10, size: 100, limit: 3, bytes: Buffer.concat([Buffer.from('a'), euro.subarray(0, 2)]) }, 1000, false, 'utf8');
  t.like(chunk, { data: 'a', offset: 10, nextOffset: 11, complete: false });
});

test('a limit under one character still gives that whole character, from the bytes read past the limit', (t) => {
  const tiny = toChunk({ offset: 0, size: 3, limit: 1, bytes: euro }, 1000, false, 'utf8');
  t.like(tiny, { data: '€', nextOffset: 3 });
  const writing = toChunk({ offset: 0, size: 2, limit: 1, bytes: euro.subarray(0, 2) }, 1000, false, 'utf8');
  t.like(writing, { data: '', nextOffset: 0, complete: false }, 'a character still being written waits');
  const last = toChunk({ offset: 0, size: 2, limit: 10, bytes: euro.subarray(0, 2) }, 1000, true, 'utf8');
  t.like(last, { data: '\uFFFD', nextOffset: 2, complete: true }, 'bytes that can never complete are shown at the end');
});

test('base64 keeps every byte and the cap says truncated', (t) => {
  const chunk = toChunk({ offset: 0, size: 9, limit: 8, bytes: Buffer.from([0xff, 0, 1, 2, 3, 4, 5, 6]) }, 8, true, 'base64');
  t.like(chunk, { data: Buffer.from([0xff, 0, 1, 2, 3, 4, 5, 6]).toString('base64'), totalBytes: 8, truncated: true, complete: true });
});
