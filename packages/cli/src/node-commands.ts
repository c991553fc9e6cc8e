import type { Command } from 'commander';
import { ago, printJson, printTable } from './output.js';
import { collect, pairs, portMapping, positiveInt, type PortMapping } from './parse.js';
import { resolveNode } from './resolve.js';
import { withSpinner } from './spinner.js';
import type { Run } from './program.js';

/** `nodes ls`, `create`, `rm`, `reset`, `health`, `prune`: the node commands. */
export function addNodeCommands(program: Command, run: Run): void {
  run(program.command('ls').alias('list').description('list the nodes of the namespace'), async ({ client, json }) => {
    const nodes = await withSpinner('listing nodes', client.listNodes(), json);
    if (json) return printJson(nodes);
    printTable(
      ['NODE ID', 'NAME', 'IMAGE', 'STATE', 'RESETS', 'CREATED'],
      nodes.map((n) => [n.node_id, n.name, n.image, n.exit_code === null ? n.state : `${n.state} (${n.exit_code})`, n.resets, ago(n.created_at)]),
    );
  });

  run(
    program
      .command('create')
      .description('create and start a node; prints its node id')
      .option('--name <name>', 'a DNS label, also the hostname')
      .option('--image <image>', 'image reference (default: the server\'s NODES_DEFAULT_IMAGE)')
      .option('-e, --env <KEY=VALUE>', 'environment of the node (repeatable)', collect)
      .option('-l, --label <KEY=VALUE>', 'container label (repeatable)', collect)
      .option('-p, --publish <[HOST:]PORT[/PROTO]>', 'publish a container port on the host (repeatable)', (v: string, prev: PortMapping[] = []) => [...prev, portMapping(v)])
      .option('--memory-bytes <bytes>', 'memory limit in bytes', positiveInt)
      .option('--nano-cpus <n>', 'CPU limit, 1e9 = one CPU', positiveInt),
    async ({ client, json, options }) => {
      const spec = {
        image: options.image as string | undefined,
        name: options.name as string | undefined,
        env: pairs(options.env as string[] | undefined, 'env'),
        labels: pairs(options.label as string[] | undefined, 'label'),
        memory_bytes: options.memoryBytes as number | undefined,
        nano_cpus: options.nanoCpus as number | undefined,
        ...(options.publish ? { ports: options.publish as PortMapping[] } : {}),
      };
      const node = await withSpinner(`creating node${spec.name ? ` ${spec.name}` : ''}`, client.createNode(spec), json);
      if (json) return printJson(node);
      process.stdout.write(`${node.node_id}\n`);
    },
  );

  run(program.command('rm').alias('remove').description('remove nodes (kills their processes)').argument('<node...>', 'node ids or names'), async ({ client, json, args }) => {
    const removed: string[] = [];
    for (const ref of args[0] as string[]) {
      const nodeId = await resolveNode(client, ref);
      await withSpinner(`removing ${ref}`, client.removeNode(nodeId), json);
      removed.push(nodeId);
      if (!json) process.stdout.write(`${nodeId}\n`);
    }
    if (json) printJson(removed.map((node_id) => ({ node_id })));
  });

  run(program.command('reset').description('recreate a node from its spec: same node id, fresh filesystem').argument('<node>', 'node id or name'), async ({ client, json, args }) => {
    const nodeId = await resolveNode(client, args[0] as string);
    const node = await withSpinner(`resetting ${args[0]}`, client.resetNode(nodeId), json);
    if (json) return printJson(node);
    process.stdout.write(`${node.node_id}\n`);
  });

  run(program.command('health').description('engine and node health; exits 1 when bad'), async ({ client, json }) => {
    const health = await withSpinner('checking health', client.getHealth(), json);
    if (json) printJson(health);
    else {
      printTable(
        ['HEALTH', 'ENGINE', 'VERSION', 'NODES', 'RUNNING', 'CHECKED IN'],
        [[health.health, health.engine.endpoint, health.engine.version, health.nodes.total, health.nodes.running, `${health.duration_ms} ms`]],
      );
      for (const reason of health.reasons) process.stdout.write(`  ${reason.message}\n`);
    }
    if (health.health !== 'good') process.exitCode = 1;
  });

  run(program.command('prune').description('remove containers of the namespace that are not live nodes'), async ({ client, json }) => {
    const removed = await withSpinner('pruning', client.pruneNodes(), json);
    if (json) return printJson(removed);
    if (removed.length === 0) return void process.stdout.write('nothing to prune\n');
    printTable(['CONTAINER ID', 'NODE ID', 'REASON'], removed.map((r) => [r.container_id.slice(0, 12), r.node_id, r.reason]));
  });
}
