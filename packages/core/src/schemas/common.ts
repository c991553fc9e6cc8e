import { z } from 'zod';

/** Our id of a node: `n-` and 12 lowercase hex digits. It survives a reset; the container id does not. */
export const NodeIdSchema = z
  .string()
  .regex(/^n-[0-9a-f]{12}$/, 'must be a node id such as "n-3f2a9c1b7d04"')
  .describe('node id');
export type NodeId = z.infer<typeof NodeIdSchema>;

/** A node's name as a spec gives it: a DNS label (the form of the container's hostname and network alias). */
export const NodeNameSchema = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label: a-z, 0-9 and -, at most 63 characters');

/**
 * How a caller names a node: its node id (`n-…`) or its name. Names never look like node ids, so either form
 * is unambiguous.
 */
export const NodeRefSchema = z
  .string()
  .refine((s) => NodeIdSchema.safeParse(s).success || NodeNameSchema.safeParse(s).success, 'must be a node id such as "n-3f2a9c1b7d04" or a node name')
  .describe('node id or name');

/** Our id of a process: `p-` and 12 lowercase hex digits. */
export const ProcessIdSchema = z
  .string()
  .regex(/^p-[0-9a-f]{12}$/, 'must be a process id such as "p-3f2a9c1b7d04"')
  .describe('process id');
export type ProcessId = z.infer<typeof ProcessIdSchema>;

/** How large an env may be, all `NAME=value` pairs together (bytes): the kernel limits one string to 128 KiB. */
export const MAX_ENV_BYTES = 64 * 1024;

/**
 * Environment variables: names as POSIX shells accept them, values any string without NUL bytes (the kernel
 * passes env as C strings), at most `MAX_ENV_BYTES` in all.
 */
export const EnvSchema = z.record(z.string(), z.string()).superRefine((env, ctx) => {
  let bytes = 0;
  for (const [key, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: 'env names are letters, digits and _, not starting with a digit' });
    }
    if (value.includes('\0')) ctx.addIssue({ code: 'custom', path: [key], message: 'env values cannot hold NUL bytes' });
    bytes += Buffer.byteLength(key) + 1 + Buffer.byteLength(value);
  }
  if (bytes > MAX_ENV_BYTES) ctx.addIssue({ code: 'custom', path: [], message: `env is ${bytes} bytes; at most ${MAX_ENV_BYTES} bytes in all` });
});
export type Env = z.infer<typeof EnvSchema>;

/** An absolute path inside the node. */
export const AbsolutePathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/'), 'must be an absolute path (starting with "/")')
  .refine((p) => !p.includes('\0'), 'must not contain NUL bytes');

/** Docker's container states, as the Engine API reports them in `State.Status`. */
export const ContainerStateSchema = z.enum(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);
export type ContainerState = z.infer<typeof ContainerStateSchema>;

/** How long a command may be (bytes of its shell line, or of its argv together): the kernel's argv limit is near. */
export const MAX_COMMAND_BYTES = 64 * 1024;

/** A command: a shell line (run with `/bin/sh -c`) or an argv array run as it is; at most `MAX_COMMAND_BYTES`. */
export const CommandSchema = z
  .union([z.string().min(1), z.array(z.string()).min(1)], { error: 'must be a shell command line (string) or an argv array of strings' })
  .refine(
    (c) => Buffer.byteLength(typeof c === 'string' ? c : c.join(' ')) <= MAX_COMMAND_BYTES,
    `must be at most ${MAX_COMMAND_BYTES} bytes`,
  )
  .refine((c) => !(typeof c === 'string' ? c : c.join(' ')).includes('\0'), 'must not contain NUL bytes (the kernel passes commands as C strings)');
