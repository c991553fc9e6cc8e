import { readFileSync } from 'node:fs';

/**
 * The POSIX shell scripts that run processes and keep their records inside the node (so that both outlive the
 * manager). They are real files, `src/process/scripts/*.sh` (shipped with the package, checked with
 * `shellcheck -s sh` by `scripts/test`); each is sent whole with every exec, after `common.sh`, so nothing
 * cached in the node (where its processes could rewrite it) ever runs. See `common.sh` for the record layout.
 */
const SCRIPTS_DIR = new URL('../../src/process/scripts/', import.meta.url);

const load = (name: string): string => readFileSync(new URL(name, SCRIPTS_DIR), 'utf8');
const COMMON = load('common.sh');
const script = (name: string): string => `${COMMON}\n${load(name)}`;

/** Starts and supervises one process; see `launch.sh`. */
export const LAUNCH_SCRIPT = script('launch.sh');
/** Prints records; see `read.sh`. */
export const READ_SCRIPT = script('read.sh');
/** Ends a process's whole run; see `kill.sh`. */
export const KILL_SCRIPT = script('kill.sh');
/** Prints a record and a page of each stream; see `output.sh`. */
export const OUTPUT_SCRIPT = script('output.sh');
/** Streams a process's output as it grows; see `follow.sh`. */
export const FOLLOW_SCRIPT = script('follow.sh');
/** Prints a node's process activity (for pruning idle nodes); see `activity.sh`. */
export const ACTIVITY_SCRIPT = script('activity.sh');
/** Marks carried processes that had not ended as lost after a reset; see `mark-lost.sh`. */
export const MARK_LOST_SCRIPT = script('mark-lost.sh');

/** Exit codes of `launch.sh` before the process starts. */
export const LAUNCH_EXIT = { missingCwd: 96, missingTool: 97, stateDir: 98 } as const;

/** The largest record file (`meta`, `start`, `end`…) the manager reads (bytes); a larger one is not read. */
export const MAX_RECORD_FILE_BYTES = 1024 * 1024;

/** The most record bytes one read takes from a node (bytes); a tar cut there still gives the records before. */
export const MAX_RECORDS_READ_BYTES = 64 * 1024 * 1024;
