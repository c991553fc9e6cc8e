import { Command, Option } from 'commander';
import type { NodesClient } from '@nodes/client';
import { connect, type GlobalOptions } from './context.js';
import { addNodeCommands } from './node-commands.js';
import { addProcessCommands } from './process-commands.js';

/** What a command's action gets: the client, `--json`, its operands and its own options. */
export interface ActionContext {
  client: NodesClient;
  json: boolean;
  args: unknown[];
  options: Record<string, unknown>;
}

/** Gives a command the common options and an action that runs with a client (see `connect`). */
export type Run = (command: Command, action: (ctx: ActionContext) => Promise<void>) => void;

/** The options every command takes, before or after its name. */
function addCommonOptions(command: Command): Command {
  return command
    .option('--json', 'print JSON for scripts instead of tables')
    .addOption(new Option('--url <url>', 'the server\'s URL').env('NODES_URL').default(undefined, 'http://127.0.0.1:8080'))
    .addOption(new Option('--token <token>', 'bearer token of the server').env('NODES_TOKEN'))
    .option('--local', 'use the library in this process instead of a server (reads NODES_* as the server does)');
}

const run: Run = (command, action) => {
  addCommonOptions(command).action(async (...params: unknown[]) => {
    const self = params.at(-1) as Command;
    const options = self.optsWithGlobals<GlobalOptions & Record<string, unknown>>();
    const session = await connect(options);
    try {
      await action({ client: session.client, json: Boolean(options.json), args: params.slice(0, -2), options });
    } finally {
      await session.close();
    }
  });
};

/**
 * The `nodes` command: docker-style moves on a @nodes server (`NODES_URL`, default http://127.0.0.1:8080) or,
 * with `--local`, on the library in this process. Errors are thrown to `main`, which prints one line.
 */
export function buildProgram(version: string): Command {
  const program = new Command('nodes')
    .description('Disposable machines on a Docker engine: create nodes, run processes in them, follow their output.')
    .version(version)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(true);
  addCommonOptions(program);
  addNodeCommands(program, run);
  addProcessCommands(program, run);
  return program;
}
