import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import type { ContainerEngine } from '../engine/container-engine.js';
import type { Logger } from '../logger.js';
import { ownerOf } from '../node/node-user.js';
import { MARK_LOST_SCRIPT, MAX_RECORD_FILE_BYTES } from './node-scripts.js';

/** What carrying process records across a reset needs. */
export interface CarryDeps {
  engine: ContainerEngine;
  logger: Logger;
  /** where process records live in a node (config `stateDir`) */
  stateDir: string;
  /** bytes kept per output stream (config `outputCapBytes`) */
  capBytes: number;
}

const ID = /^p-[0-9a-f]{12}$/;
const RECORD_FILES = new Set(['meta', 'start', 'end', 'kill_requested', 'timed_out']);
const STREAM_FILES = new Set(['stdout', 'stderr']);

/**
 * Copies a node's process records from its old container into the new, not yet started one
 * (`GET /containers/{old}/archive` filtered, then `PUT /containers/{new}/archive`), so that a reset keeps the
 * node's process history. Only data crosses: regular files of the record layout (`meta`, `start`, `end`,
 * markers, `stdout`, `stderr`) within their size bounds, written as plain non-executable files; anything else a
 * process left in the state directory (scripts, links, FIFOs, other files) stays behind. Best effort: a
 * failure is logged, not thrown. What it writes belongs to the node's `user` (its spec's; root without one).
 * Returns whether a carried process had not ended (then `markProcessesLost` has work to do), true when the carry
 * failed. `newId` may be a promise (undefined: no new container after all, and
 * nothing is copied): the old container's archive is asked for at once, beside whatever finds the new one.
 */
export async function carryProcessRecords(
  deps: CarryDeps,
  nodeId: string,
  oldId: string,
  newId: string | Promise<string | undefined>,
  user: string | undefined,
): Promise<boolean> {
  const seen = new Set<string>();
  const ended = new Set<string>();
  try {
    const tar = await deps.engine.copyOut(oldId, deps.stateDir);
    if (!tar) return false;
    // The old container's records may be asked for before the new container is known (a reset claiming one).
    const target = await newId;
    if (target === undefined) {
      (tar as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
      return false;
    }
    const base = posix.basename(deps.stateDir);
    // The node's user owns its records, as it did in the old container: its processes write there.
    const { uid, gid, byName } = ownerOf(user);
    const out = pack();
    const dirs = new Set<string>();
    const dir = (name: string) => {
      if (dirs.has(name)) return;
      dirs.add(name);
      out.entry({ name, type: 'directory', mode: 0o755, uid, gid });
    };
    const filter = extract();
    filter.on('entry', (header, stream, next) => {
      const [top, processes, id, file, ...rest] = header.name.replace(/\/$/, '').split('/');
      const bound = file && RECORD_FILES.has(file) ? MAX_RECORD_FILE_BYTES : file && STREAM_FILES.has(file) ? deps.capBytes + 1 : -1;
      const keep = top === base && processes === 'processes' && ID.test(id ?? '') && rest.length === 0 && header.type === 'file' && (header.size ?? 0) <= bound;
      if (!keep) {
        stream.on('end', next).resume();
        return;
      }
      seen.add(id!);
      if (file === 'end') ended.add(id!);
      dir(base);
      dir(`${base}/processes`);
      dir(`${base}/processes/${id}`);
      const chunks: Buffer[] = [];
      stream.on('data', (b: unknown) => chunks.push(b as Buffer));
      stream.on('end', () => {
        out.entry({ name: header.name, type: 'file', mode: 0o644, uid, gid }, Buffer.concat(chunks), next);
      });
    });
    filter.on('finish', () => out.finalize());
    const copied = deps.engine.copyIn(target, posix.dirname(deps.stateDir), out as unknown as NodeJS.ReadableStream, { asContainerUser: byName });
    await pipeline(tar, filter);
    await copied;
    return [...seen].some((id) => !ended.has(id));
  } catch (error) {
    deps.logger.warn({ nodeId, err: String(error) }, 'could not carry process records across the reset');
    return true;
  }
}

/** Marks the carried records of processes that had not ended as lost (exit 137), in the started new container. Best effort. */
export async function markProcessesLost(deps: CarryDeps, nodeId: string, containerId: string): Promise<void> {
  try {
    await deps.engine.exec(containerId, { cmd: ['/bin/sh', '-c', MARK_LOST_SCRIPT, 'nodes', deps.stateDir] });
  } catch (error) {
    deps.logger.warn({ nodeId, containerId, err: String(error) }, 'could not mark lost processes after the reset');
  }
}
