#!/usr/bin/env node
import { createRequire } from 'node:module';
import { CommanderError } from 'commander';
import { NodeError } from '@nodes/client';
import { buildProgram } from './program.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** One line on stderr, never a stack: `nodes: error <code>: <what happened>`. */
function fail(code: string, message: string, exitCode: number): void {
  process.stderr.write(`nodes: error ${code}: ${message.replace(/\s*\n\s*/g, ' ').replace(/^error: /, '')}\n`);
  process.exitCode = exitCode;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram(version);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage mistakes exit 2, as shells' builtins do.
      if (error.exitCode === 0) return;
      if (error.code === 'commander.help' || error.code === 'commander.helpDisplayed') return void (process.exitCode = error.exitCode);
      return fail('invalid_usage', `${error.message} (see nodes --help)`, 2);
    }
    if (error instanceof NodeError) return fail(error.code, error.message, 1);
    fail('internal_error', error instanceof Error ? error.message : String(error), 1);
  }
}

// A reader that goes away (`nodes ls | head -1`) ends us quietly, as it ends any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

await main(process.argv);
