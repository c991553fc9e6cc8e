/**
 * `node test/dist/helpers/sweep-runs.js`: removes the containers and networks of test runs that are gone, on the
 * engine of `DOCKER_HOST` (default: the local Docker socket). `./scripts/test` runs it before and after ava, once
 * per engine it tests. Exits 1 when something could not be removed or no engine answers.
 */
import Docker from 'dockerode';
import { sweepGoneRuns } from './test-runs.js';

const engine = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
try {
  const report = await sweepGoneRuns(new Docker());
  const runs = new Set([...report.containers, ...report.networks].map((o) => o.run));
  console.error(
    `[nodes] sweep of ${engine}: removed ${report.containers.length} containers and ${report.networks.length} networks` +
      ` of gone test runs${runs.size > 0 ? ` (${[...runs].join(', ')})` : ''}`,
  );
  for (const failure of report.failed) console.error(`[nodes] sweep of ${engine}: could not remove ${failure}`);
  process.exitCode = report.failed.length > 0 ? 1 : 0;
} catch (error) {
  console.error(`[nodes] sweep of ${engine} failed: ${String(error)}`);
  process.exitCode = 1;
}
