import type { OutputChunk, OutputEncoding } from '../schemas/process.js';

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
