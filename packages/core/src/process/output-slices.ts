import type { OutputChunk, OutputEncoding, ProcessLogs, ProcessRecord } from '../schemas/process.js';

/**
 * How many bytes at the end of `bytes` begin a UTF-8 character that is not complete yet (0 to 3): a slice should
 * stop before them, so that the next page starts on a character.
 */
export function incompleteUtf8Tail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/** How many bytes the UTF-8 character that starts with `lead` takes (1 for a byte that starts none). */
const utf8Length = (lead: number): number => (lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1);

/** In `utf8`, a page may run this many bytes past its limit, to hold one whole character. */
export const UTF8_LOOKAHEAD_BYTES = 3;

/** One stream's slice as `OUTPUT_SCRIPT` printed it. */
export interface RawSlice {
  offset: number;
  /** the stream's size on the node (at most cap + 1 bytes: above the cap means cut) */
  size: number;
  /** the bytes read: the page, and in `utf8` up to `UTF8_LOOKAHEAD_BYTES` more */
  bytes: Buffer;
  /** how many bytes the page may hold */
  limit: number;
}

/**
 * The bytes of a UTF-8 page: at most `limit` bytes of `held`, ending on a whole character. A limit under one
 * character still gives that character (from the bytes held past the limit), so paging always moves on. When
 * `final` (the process has ended and `held` reaches the end of the stream), bytes that can never complete a
 * character are given too, and decode to U+FFFD; otherwise a character still being written waits for the next read.
 */
export function utf8Page(held: Buffer, limit: number, final: boolean): Buffer {
  const page = held.subarray(0, limit);
  const cut = incompleteUtf8Tail(page);
  if (cut === 0 || (final && page.length === held.length)) return page;
  if (page.length > cut) return page.subarray(0, page.length - cut);
  const need = utf8Length(page[0]!);
  if (held.length >= need) return held.subarray(0, need);
  return final ? held : held.subarray(0, 0);
}

/** Turns a raw slice into an `OutputChunk` (see `utf8Page` for where a `utf8` page ends). */
export function toChunk(slice: RawSlice, capBytes: number, ended: boolean, encoding: OutputEncoding): OutputChunk {
  const totalBytes = Math.min(slice.size, capBytes);
  const final = ended && slice.offset + slice.bytes.length >= totalBytes;
  const bytes = encoding === 'utf8' ? utf8Page(slice.bytes, slice.limit, final) : slice.bytes.subarray(0, slice.limit);
  const nextOffset = slice.offset + bytes.length;
  return {
    data: bytes.toString(encoding),
    encoding,
    offset: slice.offset,
    nextOffset,
    totalBytes,
    truncated: slice.size > capBytes,
    complete: ended && nextOffset >= totalBytes,
  };
}

/** What was asked of `OUTPUT_SCRIPT`, to read its answer. */
export interface LogsRequest {
  nodeId: string;
  processId: string;
  capBytes: number;
  encoding: OutputEncoding;
  /** where each stream's page starts and how many bytes it may hold (the script was asked for the lookahead too) */
  stdout: { offset: number; limit: number };
  stderr: { offset: number; limit: number };
}

/** What `OUTPUT_SCRIPT` printed, split: whether the end was there before the slices were read, the slices, the record dump. */
export interface LogsAnswer {
  endedBefore: boolean;
  stdout: RawSlice;
  stderr: RawSlice;
  /** the `print_records` part (see `parseRecordDump`) */
  dump: Buffer;
}

/**
 * Splits `OUTPUT_SCRIPT`'s answer: `@ended <0|1>`, then `@stdout <size> <n>` and exactly n bytes, the same for
 * stderr, then the record dump. Every part is framed by a length, so no byte of output can forge the next.
 * Returns undefined when the answer is cut short (the node went away during the read).
 */
export function splitLogsOutput(out: Buffer, request: LogsRequest): LogsAnswer | undefined {
  const head = /^@ended ([01])\n/.exec(out.subarray(0, 16).toString('latin1'));
  if (!head) return undefined;
  const readSlice = (stream: 'stdout' | 'stderr', header: number) => {
    const headerOk = out.toString('latin1', header, header + stream.length + 2) === `@${stream} `;
    const newline = headerOk ? out.indexOf(0x0a, header) : -1;
    if (newline < 0) return undefined;
    const [, size, n] = out.subarray(header, newline).toString('latin1').split(' ').map(Number);
    if (!Number.isInteger(size) || !Number.isInteger(n) || newline + 1 + n! > out.length) return undefined;
    const bytes = out.subarray(newline + 1, newline + 1 + n!);
    return { end: newline + 1 + n!, slice: { ...request[stream], size: size!, bytes } };
  };
  const stdout = readSlice('stdout', head[0].length);
  const stderr = stdout && readSlice('stderr', stdout.end);
  if (!stdout || !stderr) return undefined;
  return { endedBefore: head[1] === '1', stdout: stdout.slice, stderr: stderr.slice, dump: out.subarray(stderr.end) };
}

/**
 * The logs answer: the record, and a chunk of each stream. A chunk is `complete` only when the end was written
 * before its slice was read (then the slice holds all there is).
 */
export function toLogs(answer: LogsAnswer, process: ProcessRecord, request: LogsRequest): ProcessLogs {
  const ended = answer.endedBefore && process.status !== 'running';
  return {
    process,
    stdout: toChunk(answer.stdout, request.capBytes, ended, request.encoding),
    stderr: toChunk(answer.stderr, request.capBytes, ended, request.encoding),
  };
}
