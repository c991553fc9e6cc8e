import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import type Docker from 'dockerode';

/**
 * Which test run made a container or network, and whether that run is still alive.
 *
 * Everything a test makes carries two labels: the run id (`test.nodes.run`, one per `./scripts/test` run,
 * or one per ava run when ava is started by hand) and the owner mark (`test.nodes.run.owner`): the boot id,
 * the pid namespace, the pid and the start time (clock ticks after boot, `/proc/<pid>/stat` field 22) of the
 * test process that made it. A pid alone can be reused; a pid with the same start time in the same boot is the
 * same process. The sweep removes what belongs to processes that are gone, and nothing of live ones. The keys
 * are outside `io.nodes.`, which is reserved for the product.
 */
export const TEST_RUN_LABEL = 'test.nodes.run';
/** Label holding the owner mark (see {@link ownerMark}). */
export const TEST_OWNER_LABEL = 'test.nodes.run.owner';

/** Start time of a process in clock ticks after boot (`/proc/<pid>/stat` field 22), or undefined when gone. */
export function processStartTicks(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields after it follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): a zombie has ended, whatever its parent does.
  if (fields[0] === 'Z') return undefined;
  return fields[19];
}

const bootId = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const pidNamespace = (): string => readlinkSync('/proc/self/ns/pid').replace(/\D/g, '');

/** `<pid>:<start ticks>` of a live process. */
function processMark(pid: number): string {
  const start = processStartTicks(pid);
  if (start === undefined) throw new Error(`process ${pid} is not running`);
  return `${pid}:${start}`;
}

/**
 * The owner mark of this process: `<boot id>:<pid namespace>:<pid>:<start ticks>`, followed by the parent's
 * `:<pid>:<start ticks>` when this process was forked with an IPC channel by a runner (an ava worker): a worker
 * whose ava was killed lives on as an orphan that nobody reads, so its run counts as gone with its runner.
 */
export function ownerMark(): string {
  const own = [bootId(), pidNamespace(), processMark(process.pid)];
  if (process.send !== undefined) own.push(processMark(process.ppid));
  return own.join(':');
}

/**
 * This run's id: `NODES_TEST_RUN_ID` (set once by `./scripts/test` for all its ava workers), else one derived
 * from the ava process that started this worker, so every worker of one hand-started run shares it.
 */
function runId(): string {
  const given = process.env.NODES_TEST_RUN_ID;
  if (given) return given;
  const parentStart = processStartTicks(process.ppid);
  return parentStart ? `run-${process.ppid}-${parentStart}` : `run-${randomBytes(4).toString('hex')}`;
}

export const TEST_RUN_ID = runId();
const OWNER = ownerMark();

/** The labels that mark a container or network as this run's: run id and owner mark. */
export const runLabels = (): Record<string, string> => ({ [TEST_RUN_LABEL]: TEST_RUN_ID, [TEST_OWNER_LABEL]: OWNER });

/** What cannot be judged (no owner mark, or one from another pid namespace) is gone once older than this. */
export const STALE_UNMARKED_MS = Number(process.env.NODES_TEST_SWEEP_STALE_MS ?? 60 * 60 * 1000);

/**
 * Whether the run that made an object is gone. An owner mark from this boot and pid namespace is judged by its
 * processes (gone when any of them is); one from an earlier boot is gone; anything else (no mark: made by an
 * older helper, or one from another pid namespace) is gone only once older than {@link STALE_UNMARKED_MS}.
 * @param createdMs when the object was made, Unix ms
 */
export function runIsGone(labels: Record<string, string> | undefined, createdMs: number, nowMs = Date.now()): boolean {
  const mark = labels?.[TEST_OWNER_LABEL]?.split(':') ?? [];
  if (mark.length >= 4 && mark.length % 2 === 0) {
    const [boot, pidns, ...processes] = mark;
    if (boot !== bootId()) return true;
    if (pidns === pidNamespace()) {
      for (let i = 0; i < processes.length; i += 2) if (processStartTicks(Number(processes[i])) !== processes[i + 1]) return true;
      return false;
    }
  }
  return nowMs - createdMs > STALE_UNMARKED_MS;
}

/** What one sweep removed: ids of containers and networks, with the run each belonged to. */
export interface SweepReport {
  containers: { id: string; run: string }[];
  networks: { id: string; run: string }[];
  failed: string[];
}

/** Gone already (404), or another sweep is removing it (409 "removal … already in progress"). */
const removedElsewhere = (error: unknown): boolean => {
  const { statusCode, message } = error as { statusCode?: number; message?: string };
  return statusCode === 404 || (statusCode === 409 && /in progress/.test(message ?? ''));
};

/**
 * Removes the containers (force: running ones too), then the networks, of test runs that are gone, on the engine
 * `docker` talks to. Objects of live runs are never touched. Failures are reported, not thrown, so that a sweep
 * does its best on every object. Docker Engine API: `GET /containers/json`, `DELETE /containers/{id}`,
 * `GET /networks`, `DELETE /networks/{id}` (Podman's compatible API answers the same).
 */
export async function sweepGoneRuns(docker: Docker): Promise<SweepReport> {
  const report: SweepReport = { containers: [], networks: [], failed: [] };
  const filters = JSON.stringify({ label: [TEST_RUN_LABEL] });
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers
      .filter((c) => runIsGone(c.Labels, c.Created * 1000))
      .map(async (c) => {
        const run = c.Labels[TEST_RUN_LABEL] ?? '?';
        try {
          await docker.getContainer(c.Id).remove({ force: true, v: true });
          report.containers.push({ id: c.Id, run });
        } catch (error) {
          if (!removedElsewhere(error)) report.failed.push(`container ${c.Id}: ${String(error)}`);
        }
      }),
  );
  const networks = await docker.listNetworks({ filters });
  for (const n of networks) {
    if (!runIsGone(n.Labels, Date.parse(n.Created ?? '') || 0)) continue;
    const run = n.Labels?.[TEST_RUN_LABEL] ?? '?';
    try {
      await docker.getNetwork(n.Id).remove();
      report.networks.push({ id: n.Id, run });
    } catch (error) {
      // Still in use (an endpoint the engine has not let go yet, or a container without test labels): the next
      // sweep tries again.
      if (/active endpoints|in use/i.test(String(error))) continue;
      if (!removedElsewhere(error)) report.failed.push(`network ${n.Id}: ${String(error)}`);
    }
  }
  return report;
}
