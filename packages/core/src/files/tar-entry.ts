import type { Readable } from 'node:stream';
import tar from 'tar-stream';

/** The first entry of a tar stream: its header and a stream of its bytes (read it, or destroy `source`). */
export interface FirstEntry {
  header: tar.Header;
  body: Readable;
}

/**
 * Reads the first entry of a tar (what the engine's `GET /containers/{id}/archive` gives for a path) with
 * tar-stream, without buffering its body: the body is handed out as a stream, and the rest of the archive is
 * drained once it has been read. Undefined for an empty archive.
 */
export function firstEntry(source: NodeJS.ReadableStream): Promise<FirstEntry | undefined> {
  const extract = tar.extract();
  return new Promise<FirstEntry | undefined>((resolve, reject) => {
    let seen = false;
    extract.on('entry', (header, body, next) => {
      if (seen) {
        // Later entries (a directory's contents) are not wanted: skip their bytes.
        body.on('end', () => next()).resume();
        return;
      }
      seen = true;
      body.on('end', () => next());
      resolve({ header, body: body as unknown as Readable });
    });
    extract.on('finish', () => resolve(undefined));
    extract.on('error', reject);
    (source as Readable).on('error', (error: Error) => extract.destroy(error));
    source.pipe(extract);
  });
}

/** Destroys an archive stream that is no longer wanted (a directory's tar, say), so the engine stops sending it. */
export function discard(source: NodeJS.ReadableStream): void {
  (source as Readable).destroy();
}
