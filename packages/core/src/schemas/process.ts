import { z } from 'zod';
import { AbsolutePathSchema, CommandSchema, EnvSchema } from './common.js';

/** How long a killed or timed-out process has between its signal and SIGKILL (ms). */
export const DEFAULT_KILL_GRACE_MS = 5_000;

/**
 * How to start a process in a node: the spec's `run_process_on_node` `config`.
 * - `name`: a label for people; not unique.
 * - `path`: absolute working directory inside the node; default `/`. It must exist.
 * - `command`: a shell command line run with `/bin/sh -c`, or an argv array run as it is.
 * - `env`: added to the node's environment for this process only. Values are never logged or echoed back.
 * - `timeoutMs`: optional; when the process runs longer it is killed and recorded as `timed_out`.
 * - `graceMs`: after the timeout's SIGTERM, how long before SIGKILL (ms, default 5000).
 */
export const ProcessConfigSchema = z
  .object({
    name: z.string().min(1).max(256).default('process'),
    path: AbsolutePathSchema.default('/'),
    command: CommandSchema,
    env: EnvSchema.default({}),
    timeoutMs: z.number().int().positive().max(30 * 24 * 3600 * 1000).optional(),
    graceMs: z.number().int().min(0).max(600_000).default(DEFAULT_KILL_GRACE_MS),
  })
  .strict();
export type ProcessConfig = z.input<typeof ProcessConfigSchema>;
/** A process config as a caller writes it (zod input type): `{ cmd: 'true' }` fails to compile. */
export type ProcessConfigInput = ProcessConfig;
export type ResolvedProcessConfig = z.output<typeof ProcessConfigSchema>;

/** The signals a process may be killed with, by their names without the `SIG` prefix. */
export const SIGNAL_NAMES = ['TERM', 'KILL', 'INT', 'HUP', 'QUIT', 'USR1', 'USR2', 'ALRM'] as const;
type SignalName = (typeof SIGNAL_NAMES)[number];

/**
 * Signals a process may be killed with: `TERM` or `SIGTERM` (a union of literals, so a typo fails to compile);
 * lowercase is accepted at run time for hand-written requests. Parsed to the name without `SIG`.
 */
export const SignalSchema = z
  .custom<SignalName | `SIG${SignalName}`>((v) => typeof v === 'string', { error: 'must be a signal name such as "TERM" or "SIGKILL"' })
  .transform((s) => s.toUpperCase().replace(/^SIG/, ''))
  .pipe(z.enum(SIGNAL_NAMES))
  .meta({ type: 'string', enum: [...SIGNAL_NAMES, ...SIGNAL_NAMES.map((n) => `SIG${n}`)] });
export type Signal = z.output<typeof SignalSchema>;

/**
 * Status of a process: `running`; `exited` on its own; `killed` by `killProcess`; `timed_out` when its
 * `timeoutMs` ran out; `lost` when its node was reset or removed under it (its exit code is then 137, SIGKILL,
 * as the engine kills a removed container's processes), or its supervisor inside the node died.
 */
export const ProcessStatusSchema = z.enum(['running', 'exited', 'killed', 'timed_out', 'lost']);
export type ProcessStatus = z.infer<typeof ProcessStatusSchema>;

/**
 * The record of one process, read from the node where it is kept (so it survives a restart of the manager).
 * Times are ISO 8601 and Unix ms; `exitCode` and `endedAt` are set once the status is not `running`; `signal`
 * names the signal that ended it (`SIGTERM`…), when one did. Env values are never part of it, only `envKeys`.
 * `stdoutBytes`/`stderrBytes` count what is kept (at most `outputCapBytes`); `truncated` says output was cut.
 */
export const ProcessRecordSchema = z.object({
  processId: z.string(),
  nodeId: z.string(),
  name: z.string(),
  command: z.union([z.string(), z.array(z.string())]),
  path: z.string(),
  envKeys: z.array(z.string()),
  timeoutMs: z.number().optional(),
  status: ProcessStatusSchema,
  exitCode: z.number().int().optional(),
  signal: z.string().optional(),
  pid: z.number().int().optional(),
  startedAt: z.string(),
  startedAtMs: z.number(),
  endedAt: z.string().optional(),
  endedAtMs: z.number().optional(),
  stdoutBytes: z.number().int(),
  stderrBytes: z.number().int(),
  truncated: z.object({ stdout: z.boolean(), stderr: z.boolean() }),
  /** `oom_killed` when the kernel's out-of-memory killer ended it (SIGKILL while its node's memory was full) */
  reason: z.enum(['oom_killed']).optional(),
  /** set when part of the record in the node could not be read (too large, or not what the manager wrote) */
  error: z.string().optional(),
});
export type ProcessRecord = z.infer<typeof ProcessRecordSchema>;

/** Which stream of a process to read. */
export const OutputStreamSchema = z.enum(['stdout', 'stderr']);
export type OutputStream = z.infer<typeof OutputStreamSchema>;

/**
 * How output is returned: `utf8` text (default; a slice never ends inside a multibyte character, so pages join
 * cleanly, and invalid bytes show as U+FFFD), or `base64` of the exact bytes, for binary output.
 */
export const OutputEncodingSchema = z.enum(['utf8', 'base64']);
export type OutputEncoding = z.infer<typeof OutputEncodingSchema>;

const LimitBytesSchema = z
  .number()
  .int()
  .positive()
  .max(16 * 1024 * 1024)
  .default(1024 * 1024);

/**
 * A request for one stream's output: `offset` in bytes from the start of the stream, at most `limitBytes`
 * (default 1 MiB), in `encoding` (default `utf8`).
 */
export const OutputQuerySchema = z
  .object({
    offset: z.number().int().min(0).default(0),
    limitBytes: LimitBytesSchema,
    encoding: OutputEncodingSchema.default('utf8'),
  })
  .strict();
export type OutputQuery = z.input<typeof OutputQuerySchema>;

/** A request for both streams at once: a byte offset for each, at most `limitBytes` of each, in `encoding`. */
export const LogsQuerySchema = z
  .object({
    stdoutOffset: z.number().int().min(0).default(0),
    stderrOffset: z.number().int().min(0).default(0),
    limitBytes: LimitBytesSchema,
    encoding: OutputEncodingSchema.default('utf8'),
  })
  .strict();
export type LogsQuery = z.input<typeof LogsQuerySchema>;

/**
 * A slice of one output stream: `data` in `encoding`, the `offset` it starts at and `nextOffset` to resume from
 * (bytes), `totalBytes` kept so far, `truncated` when the stream was cut at the cap, and `complete` once the
 * process has ended and nothing more will come.
 */
export const OutputChunkSchema = z.object({
  data: z.string(),
  encoding: OutputEncodingSchema,
  offset: z.number().int(),
  nextOffset: z.number().int(),
  totalBytes: z.number().int(),
  truncated: z.boolean(),
  complete: z.boolean(),
});
export type OutputChunk = z.infer<typeof OutputChunkSchema>;

/** A process's record and a slice of each of its streams, read together in one exec. */
export const ProcessLogsSchema = z.object({
  process: ProcessRecordSchema,
  stdout: OutputChunkSchema,
  stderr: OutputChunkSchema,
});
export type ProcessLogs = z.infer<typeof ProcessLogsSchema>;

/** Options of `killProcess`: the first signal (default TERM) and how long to wait before SIGKILL (ms, default 5000). */
export const KillOptionsSchema = z
  .object({
    signal: SignalSchema.default('TERM'),
    graceMs: z.number().int().min(0).max(600_000).default(DEFAULT_KILL_GRACE_MS),
  })
  .strict();
export type KillOptions = z.input<typeof KillOptionsSchema>;

/** Options of `waitProcess`: how long to wait for the end (ms, default 60000). */
export const WaitOptionsSchema = z
  .object({
    timeoutMs: z.number().int().positive().max(24 * 3600 * 1000).default(60_000),
  })
  .strict();
export type WaitOptions = z.input<typeof WaitOptionsSchema>;

/**
 * Options of `followOutput`: byte offsets to start each stream from (default 0, as an SSE `Last-Event-ID` gives
 * them) and the `encoding` of the chunks (default `utf8`; a chunk never ends inside a character).
 */
export const FollowOptionsSchema = z
  .object({
    from: z.object({ stdout: z.number().int().min(0).default(0), stderr: z.number().int().min(0).default(0) }).strict().default({ stdout: 0, stderr: 0 }),
    encoding: OutputEncodingSchema.default('utf8'),
  })
  .strict();
export type FollowOptions = z.input<typeof FollowOptionsSchema>;

/** A piece of followed output: `data` in `encoding`, from byte `offset` of its stream up to `nextOffset`. */
export const FollowChunkSchema = z.object({
  stream: OutputStreamSchema,
  data: z.string(),
  encoding: OutputEncodingSchema,
  offset: z.number().int(),
  nextOffset: z.number().int(),
});
export type FollowChunk = z.infer<typeof FollowChunkSchema>;

/** What `followOutput` yields: chunks of output as they are written, then the process's final record. */
export type FollowEvent = ({ type: 'output' } & FollowChunk) | { type: 'end'; process: ProcessRecord };

/**
 * What `exec` answers: the ended process's record, its exit code, and its whole output (as kept, at most
 * `outputCapBytes` per stream), decoded as UTF-8.
 */
export const ExecAnswerSchema = z.object({
  process: ProcessRecordSchema,
  exitCode: z.number().int(),
  stdout: z.string(),
  stderr: z.string(),
});
export type ExecAnswer = z.infer<typeof ExecAnswerSchema>;
