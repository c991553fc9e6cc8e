import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, Readable, pipeline } from 'node:stream';
import tar from 'tar-stream';
import { inject, injectable } from 'tsyringe';
import type { NodesConfig } from '../config.js';
import type { ContainerEngine } from '../engine/container-engine.js';
import { EngineError, NodeError, PathNotFoundError, TooLargeError, ValidationError, WrongStateError } from '../errors.js';
import { NodeService } from '../node/node-service.js';
import type { NodeId } from '../schemas/common.js';
import {
  DirectoryPathSchema,
  FilePathSchema,
  WriteFileOptionsSchema,
  type FileInfo,
  type FileListing,
  type WriteFileOptions,
} from '../schemas/files.js';
import { ownerOf } from '../node/node-user.js';
import { parseInput } from '../schemas/parse.js';
import { TOKENS } from '../tokens.js';
import { parseListing } from './listing.js';
import { discard, firstEntry } from './tar-entry.js';

const LIST_SCRIPT = readFileSync(new URL('../../src/files/scripts/list-files.sh', import.meta.url), 'utf8');
/** How many symbolic links a read follows before it gives up (as the kernel's `ELOOP`, which allows 40). */
const MAX_LINK_HOPS = 8;
/** What `readFile` buffers at most unless told otherwise (bytes); `readFileStream` has no such bound. */
export const DEFAULT_READ_MAX_BYTES = 64 * 1024 * 1024;

type PathKind = 'missing' | 'file' | 'directory' | 'symlink' | 'other';

/**
 * Files in nodes through the engine's archive API (`PUT`/`GET /containers/{id}/archive`), as tar streams made
 * and read with tar-stream: exact bytes both ways, never the whole file in memory on the stream paths.
 */
@injectable()
export class FileService {
  constructor(
    @inject(TOKENS.ContainerEngine) private readonly engine: ContainerEngine,
    @inject(TOKENS.Config) private readonly config: NodesConfig,
    @inject(NodeService) private readonly nodes: NodeService,
  ) {}

  /** Runs `fn` on the node's running container, under its shared lock (never during its reset or remove). */
  private inNode<T>(nodeId: NodeId, fn: (containerId: string) => Promise<T>): Promise<T> {
    return this.nodes.withSharedNodeLock(nodeId, async () => {
      const container = await this.nodes.containerOf(nodeId);
      if (container.state !== 'running') {
        throw new WrongStateError(`node "${nodeId}" is not running (state: ${container.state}); its files are reachable once it runs`);
      }
      return fn(container.id);
    });
  }

  /** What is at a path, from the first header of its archive; a path under a file is refused. */
  private async kindOf(nodeId: string, containerId: string, path: string): Promise<{ kind: PathKind; linkname?: string }> {
    if (path === '/') return { kind: 'directory' };
    let archive: NodeJS.ReadableStream | undefined;
    try {
      archive = await this.engine.copyOut(containerId, path);
    } catch (error) {
      throw underAFile(error, nodeId, path);
    }
    if (!archive) return { kind: 'missing' };
    const entry = await firstEntry(archive);
    discard(archive);
    const type = entry?.header.type;
    const kind: PathKind = type === 'file' || type === 'contiguous-file' ? 'file' : type === 'directory' ? 'directory' : type === 'symlink' ? 'symlink' : 'other';
    return { kind, linkname: entry?.header.linkname ?? undefined };
  }

  /**
   * Writes a file into a running node from a buffer (base64 on the wire); see `writeFileStream`.
   * @throws {TooLargeError} when `data` is over `maxFileBytes`.
   */
  writeFile(nodeRef: string, path: string, data: Uint8Array, options: WriteFileOptions = {}): Promise<FileInfo> {
    return this.writeFileStream(nodeRef, path, Readable.from([Buffer.from(data)]), data.byteLength, options);
  }

  /**
   * Writes `sizeBytes` bytes from `source` to `path` in a running node, exactly, with `mode` (schema
   * `WriteFileOptionsSchema`), making missing parent directories (mode 0755) unless `createParents` is false.
   * The bytes are streamed in a tar (`PUT /containers/{id}/archive`) to a hidden name beside the target and
   * renamed over it only once complete (one `exec` of `mv`), so a failed write leaves no half-written file.
   * @throws {ValidationError} on a bad path, a target that is a directory, a parent that is a file, or a
   *   read-only filesystem. @throws {PathNotFoundError} when a parent is missing and `createParents` is false.
   * @throws {TooLargeError} when `sizeBytes` is over `maxFileBytes`. @throws {WrongStateError} when the node does
   *   not run. @throws {NodeNotFoundError}
   */
  async writeFileStream(nodeRef: string, pathInput: string, source: Readable, sizeBytes: number, optionsInput: WriteFileOptions = {}): Promise<FileInfo> {
    // Until the pack takes the source, remember how it failed (an unhandled stream error would crash the process).
    let pack: tar.Pack | undefined;
    let sourceError: Error | undefined;
    source.on('error', (error) => {
      sourceError = error;
      pack?.destroy(error);
    });
    const path = parseInput(FilePathSchema, pathInput, 'path');
    const options = parseInput(WriteFileOptionsSchema, optionsInput, 'write options');
    if (sizeBytes > this.config.maxFileBytes) {
      source.destroy();
      throw new TooLargeError(`file is ${sizeBytes} bytes; at most ${this.config.maxFileBytes} bytes can be written`);
    }
    const nodeId = await this.nodes.resolveId(nodeRef);
    return this.inNode(nodeId, async (containerId) => {
      if ((await this.kindOf(nodeId, containerId, path)).kind === 'directory') {
        throw new ValidationError(`"${path}" on node "${nodeId}" is a directory`);
      }
      // The deepest existing ancestor: the archive is extracted there, with the missing directories in it.
      const missing: string[] = [];
      let dir = posix.dirname(path);
      for (;;) {
        const { kind } = await this.kindOf(nodeId, containerId, dir);
        if (kind === 'directory' || kind === 'symlink') break;
        if (kind !== 'missing') throw new ValidationError(`"${dir}" on node "${nodeId}" is not a directory`);
        if (!options.createParents) throw new PathNotFoundError(nodeId, dir);
        missing.unshift(posix.basename(dir));
        dir = posix.dirname(dir);
      }
      const hidden = `.${posix.basename(path)}.nodes-${randomBytes(4).toString('hex')}`;
      const hiddenPath = posix.join(posix.dirname(path), hidden);
      const early = sourceError as Error | undefined;
      if (early) throw new ValidationError(`the data for "${path}" failed before it was sent: ${early.message}`);
      // Whose the written file is: the node's user (Docker's own numeric ids, else looked up by the engine).
      const owner = ownerOf((await this.nodes.get(nodeId)).spec.user);
      const uid = owner.uid;
      const gid = owner.gid;
      pack = tar.pack();
      const mtime = new Date();
      for (let i = 0; i < missing.length; i++) {
        pack.entry({ name: `${missing.slice(0, i + 1).join('/')}/`, type: 'directory', mode: 0o755, uid, gid, mtime });
      }
      const packed = pack;
      const sink = packed.entry({ name: [...missing, hidden].join('/'), type: 'file', size: sizeBytes, mode: options.mode, uid, gid, mtime }, (error) => {
        if (error) packed.destroy(error);
        else packed.finalize();
      });
      // pipeline handles both ends' errors: a failed source (or a cut upload) destroys the whole archive.
      pipeline(source, sink, (error) => {
        if (error) packed.destroy(error);
      });
      try {
        // Owned by the node's user and renamed into place by it, so that what is written for a node with a `user`
        // is that user's, and lands only where that user may write (sticky /tmp included).
        await this.engine.copyIn(containerId, dir, packed as unknown as NodeJS.ReadableStream, { asContainerUser: owner.byName });
        const moved = await this.engine.exec(containerId, { cmd: ['mv', '-f', hiddenPath, path] });
        if (moved.exitCode !== 0) throw new ValidationError(`"${path}" on node "${nodeId}" could not be written: ${moved.stderr.toString('utf8').trim()}`);
      } catch (error) {
        source.destroy();
        // As root: the hidden part may sit where the node's user cannot remove it (a root-owned directory).
        await this.engine.exec(containerId, { cmd: ['rm', '-f', hiddenPath], user: '0' }).catch(() => undefined);
        const failed = sourceError as Error | undefined;
        if (failed) throw new ValidationError(`the data for "${path}" failed midway, nothing was written: ${failed.message}`);
        throw readOnly(underAFile(error, nodeId, dir), nodeId, path);
      }
      return { path, sizeBytes, mode: options.mode };
    });
  }

  /**
   * Reads a file of a running node as a stream of its exact bytes (`GET /containers/{id}/archive`), following
   * symbolic links; nothing is buffered beyond the stream's own chunks.
   * @returns the file's info (schema `FileInfoSchema`) and its bytes as a Node stream: read it to the end or destroy it.
   * @throws {PathNotFoundError} when nothing is at `path`. @throws {ValidationError} when it is a directory or
   *   under a file. @throws {WrongStateError} when the node does not run. @throws {NodeNotFoundError}
   */
  async readFileStream(nodeRef: string, pathInput: string): Promise<{ info: FileInfo; stream: Readable }> {
    let path = parseInput(FilePathSchema, pathInput, 'path');
    const nodeId = await this.nodes.resolveId(nodeRef);
    return this.inNode(nodeId, async (containerId) => {
      for (let hop = 0; ; hop++) {
        let archive: NodeJS.ReadableStream | undefined;
        try {
          archive = await this.engine.copyOut(containerId, path);
        } catch (error) {
          throw underAFile(error, nodeId, path);
        }
        if (!archive) throw new PathNotFoundError(nodeId, path);
        const entry = await firstEntry(archive);
        const type = entry?.header.type;
        if (entry && (type === 'file' || type === 'contiguous-file')) {
          const stream = new PassThrough();
          entry.body.on('error', (error) => stream.destroy(error));
          stream.on('close', () => discard(archive));
          entry.body.pipe(stream);
          return { info: { path, sizeBytes: entry.header.size ?? 0, mode: (entry.header.mode ?? 0) & 0o7777 }, stream };
        }
        discard(archive);
        if (type === 'symlink' && entry?.header.linkname && hop < MAX_LINK_HOPS) {
          path = posix.resolve(posix.dirname(path), entry.header.linkname);
          continue;
        }
        if (type === 'directory') throw new ValidationError(`"${path}" on node "${nodeId}" is a directory`);
        throw new ValidationError(`"${path}" on node "${nodeId}" is not a regular file (${type ?? 'empty archive'})`);
      }
    });
  }

  /**
   * Reads a whole file of a running node into memory; see `readFileStream`.
   * @param maxBytes the most it will buffer (bytes; default `DEFAULT_READ_MAX_BYTES`).
   * @throws {TooLargeError} when the file is larger: read it with `readFileStream` instead.
   */
  async readFile(nodeRef: string, path: string, maxBytes = DEFAULT_READ_MAX_BYTES): Promise<{ info: FileInfo; data: Buffer }> {
    const { info, stream } = await this.readFileStream(nodeRef, path);
    if (info.sizeBytes > maxBytes) {
      stream.destroy();
      throw new TooLargeError(`"${info.path}" is ${info.sizeBytes} bytes; at most ${maxBytes} bytes are read at once (stream it instead)`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { info, data: Buffer.concat(chunks) };
  }

  /**
   * Lists one directory of a running node (one `exec` of `list-files.sh`, which needs the node's `/bin/sh` and
   * `stat`): entries sorted by name, at most `maxListEntries` (then `truncated`).
   * @returns schema `FileListingSchema`. @throws {PathNotFoundError} @throws {ValidationError} when it is not a directory.
   */
  async listFiles(nodeRef: string, pathInput: string): Promise<FileListing> {
    const path = parseInput(DirectoryPathSchema, pathInput, 'path');
    const nodeId = await this.nodes.resolveId(nodeRef);
    return this.inNode(nodeId, async (containerId) => {
      const result = await this.engine.exec(containerId, {
        cmd: ['/bin/sh', '-c', LIST_SCRIPT, 'nodes', path, String(this.config.maxListEntries)],
      });
      if (result.exitCode === 2) throw new PathNotFoundError(nodeId, path);
      if (result.exitCode === 3) throw new ValidationError(`"${path}" on node "${nodeId}" is not a directory`);
      if (result.exitCode !== 0) throw new EngineError(`listing "${path}" on node "${nodeId}" failed: ${result.stderr.toString('utf8').trim().slice(0, 200)}`);
      return { path, ...parseListing(result.stdout) };
    });
  }
}

/** The engine's answer for a path under a file ("not a directory") as ours; anything else unchanged. */
function underAFile(error: unknown, nodeId: string, path: string): unknown {
  if (error instanceof NodeError && /not a directory/i.test(error.message)) {
    return new ValidationError(`"${path}" on node "${nodeId}" is under a file, not a directory`);
  }
  return error;
}

/** The engine's answer for a read-only place as ours. */
function readOnly(error: unknown, nodeId: string, path: string): unknown {
  if (error instanceof NodeError && /read-only/i.test(error.message)) {
    return new ValidationError(`"${path}" on node "${nodeId}" is on a read-only filesystem`);
  }
  return error;
}
