/**
 * Drives a running @nodes server over HTTP with the spec's requests. Start the server first (./scripts/start),
 * then: `node examples/dist/http-client.js` (NODES_URL defaults to http://127.0.0.1:8080/).
 */
const url = process.env.NODES_URL ?? 'http://127.0.0.1:8080/';

async function call(method: string, args?: Record<string, unknown>): Promise<Record<string, any>> {
  const request = { method, ...(args ? { args } : {}), timestamp: Date.now() / 1000 };
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
  const { result } = (await res.json()) as { result: Record<string, any> };
  console.log(`${method} -> HTTP ${res.status} ${result.status}: ${result.message}${result.error ? ` (${result.error.code}: ${result.error.detail})` : ''}`);
  if (result.status !== 'success') throw new Error(`${method} failed`);
  return result;
}

const { node_id } = await call('create_node');
try {
  const { process_id } = await call('run_process_on_node', {
    node_id,
    config: { name: 'count', path: '/tmp', command: 'for i in 1 2 3; do echo "tick $i of $JOB"; sleep 0.2; done', env: { JOB: 'demo' } },
  });
  const { process } = await call('wait_process', { node_id, process_id, timeout_ms: 10_000 });
  console.log(`process ${process_id}: ${process.status}, exit code ${process.exit_code}`);
  const logs = await call('get_process_logs', { node_id, process_id });
  process_stdout(logs.stdout.data);
  await call('reset_node', { node_id });
  const health = await call('get_health');
  console.log(`health: ${health.health}`);
} finally {
  await call('remove_node', { node_id });
}

function process_stdout(text: string) {
  for (const line of text.trimEnd().split('\n')) console.log(`  | ${line}`);
}
