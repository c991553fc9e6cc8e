import type { FileEntry, FileType } from '../schemas/files.js';

/** The kind of an entry from the type bits of its mode (`S_IFMT`). */
function typeOf(mode: number): FileType {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'directory';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}

/**
 * Parses what `list-files.sh` prints: `<hex mode> <size> <mtime s>` NUL `<name>` NUL per entry, then `more` NUL
 * when it stopped at its limit. Names may hold any byte but NUL (newlines included); they are read as UTF-8.
 */
export function parseListing(out: Buffer): { entries: FileEntry[]; truncated: boolean } {
  const fields = out.toString('utf8').split('\0');
  if (fields.at(-1) === '') fields.pop();
  const entries: FileEntry[] = [];
  let truncated = false;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 'more') {
      truncated = true;
      break;
    }
    const [hex = '0', size = '0', mtime = '0'] = (fields[i] ?? '').split(' ');
    const mode = Number.parseInt(hex, 16);
    entries.push({
      name: fields[i + 1] ?? '',
      type: typeOf(mode),
      sizeBytes: Number(size),
      mode: mode & 0o7777,
      modifiedAt: new Date(Number(mtime) * 1000).toISOString(),
    });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { entries, truncated };
}
