import type { z } from 'zod';
import type { METHODS, MethodName, WireHealth, WireNode, WireOutput, WireProcess } from '@nodes/server';

export type { MethodName, WireHealth, WireNode, WireOutput, WireProcess };

type Methods = typeof METHODS;

/** The args of a method as the caller writes them (zod input type of its args schema: defaults optional). */
export type Args<M extends MethodName> = z.input<Methods[M]['args']>;

/** What a method answers under `result` on success: `status`, `message` and the fields of its result schema. */
export type Result<M extends MethodName> = z.output<Methods[M]['result']> & { status: 'success'; message: string };

/** Args of a method besides the ones the client's method takes positionally. */
export type Options<M extends MethodName, K extends string> = Omit<Args<M>, K>;

/** A node spec as `create_node` takes it (snake_case; every field optional). */
export type NodeSpecInput = Args<'create_node'>;

/** A process config as `run_process_on_node` takes it: `command` required, the rest defaulted. */
export type ProcessConfigInput = Args<'run_process_on_node'>['config'];

/** One event of a followed log stream: output of `stdout` or `stderr`, then `end` with the final record. */
export type LogEvent =
  | { type: 'stdout' | 'stderr'; data: string; encoding: 'utf8' | 'base64'; offset: number; id: string }
  | { type: 'end'; process: WireProcess; id: string };
