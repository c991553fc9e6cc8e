import type { Command } from 'commander';
import type { LogEvent, NodesClient, WireProcess } from '@nodes/client';
import { ago, printJson, printTable, shortCommand } from './output.js';
import { collect, pairs, positiveInt } from './parse.js';
import { resolveNode, resolveProcess } from './resolve.js';
import { withSpinner } from './spinner.js';
import type { Run } from './program.js';

/** Writes a followed stream's events to our stdout and stderr as exact bytes; returns the final record. */
async function pipeOutput(events: AsyncGenerator<LogEvent, WireProcess | undefined>): Promise<WireProcess | undefined> {
  let last: WireProcess | undefined;
  for await (const event of events) {
    if (event.type === 'end') last = event.process;
    else (event.type === 'stdout' ? process.stdout : process.stderr).write(Buffer.from(event.data, event.encoding === 'base64' ? 'base64' : 'utf8'));
  }
  return last;
}

/** The exit status a shell would give a process record: its exit code, else 128 + the signal's number. */
function exitStatusOf(p: WireProcess | undefined): number {
  return p?.exit_code ?? 1;
}

/** `nodes exec`, `ps`, `logs`, `kill`: the process commands. */
export function addProcessCommands(program: Command, run: Run): void {
  run(
    program
      .command('exec')
      .description('run a command in a node, streaming its output live; exits with its exit code; Ctrl-C kills it in the node')
      .argument('<node>', 'node id or name')
      .argument('<command...>', 'the command and its arguments (after --)')
      .option('-e, --env <KEY=VALUE>', 'environment of the process (repeatable)', collect)
      .option('-w, --workdir <path>', 'absolute working directory in the node', '/')
      .option('--name <name>', 'a name for the process', 'exec')
      .option('--timeout-ms <ms>', 'kill the process after this long (ms)', positiveInt)
      .passThroughOptions()
      .addHelpText('after', '\nExample:\n  nodes exec a -- sh -c \'echo hi; exit 3\'   # prints hi, exits 3'),
    async ({ client, args, options }) => {
      const nodeId = await resolveNode(client, args[0] as string);
      const config = {
        name: options.name as string,
        path: options.workdir as string,
        // `pnpm nodes exec a -- cmd` keeps the `--` that separates our options from the command: drop it.
        command: (args[1] as string[])[0] === '--' ? (args[1] as string[]).slice(1) : (args[1] as string[]),
        env: pairs(options.env as string[] | undefined, 'env'),
        timeout_ms: options.timeoutMs as number | undefined,
      };
      const started = await client.runProcess(nodeId, config);
      const kill = killOnInterrupt(client, nodeId, started.process_id);
      try {
        const ended = await pipeOutput(client.followLogs(nodeId, started.process_id, { encoding: 'base64' }));
        process.exitCode = exitStatusOf(ended);
      } finally {
        kill.dispose();
      }
    },
  );

  run(program.command('ps').description('list the processes of a node').argument('<node>', 'node id or name'), async ({ client, json, args }) => {
    const nodeId = await resolveNode(client, args[0] as string);
    const processes = await withSpinner('listing processes', client.listProcesses(nodeId), json);
    if (json) return printJson(processes);
    printTable(
      ['PROCESS ID', 'NAME', 'STATUS', 'EXIT CODE', 'COMMAND', 'STARTED'],
      processes.map((p) => [p.process_id, p.name, p.status, p.exit_code, shortCommand(p.command), ago(p.started_at)]),
    );
  });

  run(
    program
      .command('logs')
      .description('print a process\'s output (stdout to stdout, stderr to stderr)')
      .argument('<node>', 'node id or name')
      .argument('<process>', 'process id or name (the newest of that name)')
      .option('-f, --follow', 'keep following until the process ends'),
    async ({ client, args, options }) => {
      const nodeId = await resolveNode(client, args[0] as string);
      const processId = await resolveProcess(client, nodeId, args[1] as string);
      await pipeOutput(client.followLogs(nodeId, processId, { encoding: 'base64', follow: Boolean(options.follow) }));
    },
  );

  run(
    program
      .command('kill')
      .description('kill a process and its process group in a node')
      .argument('<node>', 'node id or name')
      .argument('<process>', 'process id or name')
      .option('-s, --signal <signal>', 'first signal: TERM, KILL, INT, HUP, QUIT, USR1, USR2, ALRM', 'TERM')
      .option('--grace-ms <ms>', 'how long after the signal before SIGKILL (ms)', positiveInt),
    async ({ client, json, args, options }) => {
      const nodeId = await resolveNode(client, args[0] as string);
      const processId = await resolveProcess(client, nodeId, args[1] as string);
      const signal = String(options.signal).toUpperCase() as 'TERM';
      const record = await withSpinner(`killing ${processId}`, client.killProcess(nodeId, processId, { signal, grace_ms: options.graceMs as number | undefined }), json);
      if (json) return printJson(record);
      process.stdout.write(`${record.process_id} ${record.status} (exit code ${record.exit_code ?? '-'})\n`);
    },
  );
}

/**
 * While a command runs in a node, Ctrl-C kills it there: the first with SIGTERM (SIGKILL 3 s later if it stays;
 * not SIGINT, which commands started in the background by a shell ignore), a second at once with SIGKILL. The output keeps streaming until the process ends, so its last words show.
 */
function killOnInterrupt(client: NodesClient, nodeId: string, processId: string): { dispose(): void } {
  let presses = 0;
  const onSignal = () => {
    presses += 1;
    const signal = presses > 1 ? 'KILL' : 'TERM';
    void client.killProcess(nodeId, processId, { signal, grace_ms: 3000 }).catch(() => undefined);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
