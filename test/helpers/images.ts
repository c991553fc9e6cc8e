import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pack } from 'tar-stream';
import type { ExecutionContext } from 'ava';
import { docker } from './engine.js';
import { runLabels } from './test-runs.js';

/** The Debian minbase image (dash as /bin/sh, coreutils, procps) built by `scripts/ensure-image --lab`. */
export const LAB_IMAGE = process.env.NODES_LAB_IMAGE ?? 'nodes-lab:latest';

/** Whether an image is on the engine. */
export async function hasImage(ref: string): Promise<boolean> {
  return docker
    .getImage(ref)
    .inspect()
    .then(() => true)
    .catch(() => false);
}

/** The images the process tests run on: busybox (`NODES_DEFAULT_IMAGE`) and the dash-based lab image. */
export const PROCESS_IMAGES: readonly string[] = [process.env.NODES_DEFAULT_IMAGE ?? 'busybox:latest', LAB_IMAGE];

/**
 * Whether a test on this image may run: a missing lab image fails under CI=true (scripts/test builds it) and is
 * skipped, saying so, elsewhere.
 */
export async function imageReady(t: ExecutionContext, image: string): Promise<boolean> {
  if (await hasImage(image)) return true;
  const missing = `image ${image} is missing: build it with scripts/ensure-image${image === LAB_IMAGE ? ' --lab' : ''}`;
  if (process.env.CI === 'true') throw new Error(missing);
  t.log(`skipped: ${missing}`);
  t.pass();
  return false;
}

/**
 * Builds (once) an image with no `/bin/sh`: only a static busybox at `/bin/busybox`, from the host's
 * busybox-static, imported offline. Labelled as this test run's; the caller removes it.
 */
export async function imageWithoutShell(tag: string): Promise<void> {
  if (await hasImage(tag)) return;
  const tar = pack();
  tar.entry({ name: 'bin', type: 'directory', mode: 0o755 });
  tar.entry({ name: 'tmp', type: 'directory', mode: 0o1777 });
  tar.entry({ name: 'bin/busybox', mode: 0o755 }, readFileSync('/bin/busybox'));
  tar.finalize();
  const labels = Object.entries(runLabels()).map(([k, v]) => `LABEL ${k}=${v}`);
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  const args = ['import', ...labels.flatMap((l) => ['-c', l]), '-', tag];
  const result = spawnSync('docker', args, { input: Buffer.concat(chunks) });
  if (result.status !== 0) throw new Error(`docker import failed: ${result.stderr.toString()}`);
}
