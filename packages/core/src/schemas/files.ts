import { posix } from 'node:path';
import { z } from 'zod';

/** Where files never go: kernel filesystems, whose writes through the archive API land nowhere a process sees. */
const KERNEL_DIRS = ['/proc', '/sys', '/dev'];

/** The longest name of one path part Linux filesystems take (`NAME_MAX`, bytes). */
export const MAX_FILE_NAME_BYTES = 255;

/**
 * A file's path in a node: absolute, normalized (no `.`, `..` or `//` parts), not `/`, no NUL, at most 4096
 * bytes with no part over `MAX_FILE_NAME_BYTES` (255), and not under `/proc`, `/sys` or `/dev`.
 */
export const FilePathSchema = z
  .string()
  .min(2)
  .refine((p) => p.startsWith('/'), 'must be an absolute path (starting with "/")')
  .refine((p) => !p.includes('\0'), 'must not contain NUL bytes')
  .refine((p) => Buffer.byteLength(p) <= 4096, 'must be at most 4096 bytes')
  .refine((p) => p.split('/').every((part) => Buffer.byteLength(part) <= MAX_FILE_NAME_BYTES), `must have no part over ${MAX_FILE_NAME_BYTES} bytes`)
  .refine((p) => posix.normalize(p) === p.replace(/\/$/, '') || posix.normalize(p) === p, 'must be normalized: no ".", ".." or empty parts')
  .refine((p) => !KERNEL_DIRS.some((d) => p === d || p.startsWith(`${d}/`)), 'must not be under /proc, /sys or /dev')
  .transform((p) => (p.length > 1 ? p.replace(/\/$/, '') : p));

/** A directory to list: as `FilePathSchema`, `/` allowed. */
export const DirectoryPathSchema = z.union([z.literal('/'), FilePathSchema]);

/** Unix permission bits of a file (`0o644`), set bits and sticky bits included; no file type bits. */
export const FileModeSchema = z.number().int().min(0).max(0o7777);

/**
 * How `writeFile` writes: `mode` (default `0o644`), `createParents` (default true: missing parent directories are
 * made with mode `0o755`; false: a missing parent is `not_found`).
 */
export const WriteFileOptionsSchema = z
  .object({
    mode: FileModeSchema.default(0o644),
    createParents: z.boolean().default(true),
  })
  .strict();
export type WriteFileOptions = z.input<typeof WriteFileOptionsSchema>;

/** A file as written or read: its path, size (bytes) and permission bits. */
export const FileInfoSchema = z.object({ path: z.string(), sizeBytes: z.number().int(), mode: z.number().int() });
export type FileInfo = z.infer<typeof FileInfoSchema>;

/** Kinds of directory entries, by their mode's type bits. */
export const FileTypeSchema = z.enum(['file', 'directory', 'symlink', 'other']);
export type FileType = z.infer<typeof FileTypeSchema>;

/** One entry of a directory: name, kind, size (bytes), permission bits and last modification (ISO 8601). */
export const FileEntrySchema = z.object({
  name: z.string(),
  type: FileTypeSchema,
  sizeBytes: z.number().int(),
  mode: z.number().int(),
  modifiedAt: z.string(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

/** A directory's entries, sorted by name; `truncated` when it held more than the listing limit. */
export const FileListingSchema = z.object({ path: z.string(), entries: z.array(FileEntrySchema), truncated: z.boolean() });
export type FileListing = z.infer<typeof FileListingSchema>;
