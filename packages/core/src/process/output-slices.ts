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

/** One stream's slice as `OUTPUT_SCRIPT` printed it. */
export interface RawSlice {
  offset: number;
  /** the stream's size on the node (at most cap + 1 bytes: above the cap means cut) */
  size: number;
  bytes: Buffer;
  /** the most bytes that were asked for */
  limit: number;
}

/**
 * Turns a raw slice into an `OutputChunk`. In `utf8`, a character cut by the slice's end is left for the next
 * slice, unless that would leave nothing though the limit was reached (a limit under one character), or the
 * process has ended and these are the last bytes (they are invalid, and decode to U+FFFD).
 */
export function toChunk(slice: RawSlice, capBytes: number, ended: boolean, encoding: OutputEncoding): OutputChunk {
  const totalBytes = Math.min(slice.size, capBytes);
  let bytes = slice.bytes;
  const atEnd = slice.offset + bytes.length >= totalBytes;
  if (encoding === 'utf8' && !(ended && atEnd)) {
    const cut = incompleteUtf8Tail(bytes);
    if (cut > 0 && !(cut === bytes.length && bytes.length >= slice.limit)) bytes = bytes.subarray(0, bytes.length - cut);
  }
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
