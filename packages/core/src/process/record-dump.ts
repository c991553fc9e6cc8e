import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { MAX_RECORD_FILE_BYTES } from './node-scripts.js';

/** One process's record files as a node script printed them (`print_records` in `common.sh`). */
export interface RawRecord {
  /** whether its supervisor was alive when the record was read (before its files were) */
  alive: boolean;
  /** sizes of its regular files (bytes), `stdout` and `stderr` included */
  sizes: Map<string, number>;
  /** contents of its small files (`meta`, `start`, `end`, markers) */
  files: Map<string, Buffer>;
}

const RECORD_FILES = new Set(['meta', 'start', 'end', 'kill_requested', 'timed_out']);

/**
 * Reads `print_records` output: `@alive` and `@size` lines, then `@tar` and a tar of the small files. Every value
 * is framed (lines hold only ids, fixed names and numbers; file contents travel in the tar), so no byte in a
 * name, command or path can forge a line. A tar cut short still gives the records before the cut.
 */
export async function parseRecordDump(out: Buffer): Promise<Map<string, RawRecord>> {
  const records = new Map<string, RawRecord>();
  const marker = out.subarray(0, 5).toString('latin1') === '@tar\n' ? 0 : out.indexOf('\n@tar\n') + 1;
  if (marker <= 0 && out.subarray(0, 5).toString('latin1') !== '@tar\n') return records;
  for (const line of out.subarray(0, marker).toString('latin1').split('\n')) {
    const [tag, id, a, b] = line.split(' ');
    if (!id || !/^p-[0-9a-f]{12}$/.test(id)) continue;
    if (tag === '@alive') records.set(id, { alive: a === '1', sizes: new Map(), files: new Map() });
    else if (tag === '@size' && a && /^\d{1,16}$/.test(b ?? '')) records.get(id)?.sizes.set(a, Number(b));
  }
  const tar = out.subarray(marker + '@tar\n'.length);
  if (tar.length === 0) return records;
  const ex = extract();
  Readable.from([tar]).pipe(ex);
  try {
    for await (const entry of ex) {
      const [id, file, ...rest] = entry.header.name.replace(/^\.\//, '').split('/');
      const record = id ? records.get(id) : undefined;
      const wanted = entry.header.type === 'file' && rest.length === 0 && record && file && RECORD_FILES.has(file);
      const chunks: Buffer[] = [];
      let bytes = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (wanted && bytes <= MAX_RECORD_FILE_BYTES) chunks.push(chunk);
      }
      if (wanted && bytes <= MAX_RECORD_FILE_BYTES) record!.files.set(file!, Buffer.concat(chunks));
    }
  } catch {
    // Cut short (a file swapped under tar, or the read's bound): keep the records read so far.
  }
  return records;
}
