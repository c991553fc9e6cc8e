import type { OutputChunk, OutputEncoding, ProcessLogs } from '../schemas/process.js';
import { parseRecords, toRecord } from './process-records.js';

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

/**
 * Reads `OUTPUT_SCRIPT`'s answer: the record's lines, then `@stdout <size> <n>` and n bytes, then the same for
 * stderr. Record lines never hold "\n@stdout " (meta is one JSON line), and stderr's header follows stdout's
 * bytes at once. Returns undefined when the answer is cut short (the node went away during the read).
 */
export function parseLogsOutput(out: Buffer, request: LogsRequest): ProcessLogs | undefined {
  const readSlice = (stream: 'stdout' | 'stderr', header: number) => {
    const headerOk = header >= 0 && out.toString('latin1', header, header + stream.length + 2) === `@${stream} `;
    const newline = headerOk ? out.indexOf(0x0a, header) : -1;
    if (newline < 0) return undefined;
    const [, size, n] = out.subarray(header, newline).toString('utf8').split(' ').map(Number);
    if (!Number.isInteger(size) || !Number.isInteger(n) || newline + 1 + n! > out.length) return undefined;
    const bytes = out.subarray(newline + 1, newline + 1 + n!);
    return { header, end: newline + 1 + n!, slice: { ...request[stream], size: size!, bytes } };
  };
  const stdoutHeader = out.indexOf('\n@stdout ');
  const stdout = readSlice('stdout', stdoutHeader < 0 ? -1 : stdoutHeader + 1);
  const stderr = stdout && readSlice('stderr', stdout.end);
  const raw = stdout && parseRecords(out.subarray(0, stdout.header).toString('utf8')).get(request.processId);
  if (!stdout || !stderr || !raw) return undefined;
  const process = toRecord(request.nodeId, request.processId, raw, request.capBytes);
  const ended = process.status !== 'running';
  return {
    process,
    stdout: toChunk(stdout.slice, request.capBytes, ended, request.encoding),
    stderr: toChunk(stderr.slice, request.capBytes, ended, request.encoding),
  };
}
