import { ContainerStateSchema, type ContainerState } from '../schemas/common.js';

/**
 * Podman's words for container states that Docker has no word for, in Docker's words: a container being
 * stopped still runs (Docker says `running` until it exits), a stopped one has exited, and one configured or
 * initialized but never started is `created`.
 */
const PODMAN_STATES: Record<string, ContainerState> = {
  stopping: 'running',
  stopped: 'exited',
  configured: 'created',
  initialized: 'created',
};

/**
 * A container's state in Docker's words (`State.Status` of `GET /containers/{id}/json`, `State` of
 * `GET /containers/json`), from Docker or Podman's Docker-compatible API; `dead` for a word neither uses.
 */
export function containerStateOf(status: string | undefined): ContainerState {
  const parsed = ContainerStateSchema.safeParse(status);
  if (parsed.success) return parsed.data;
  return PODMAN_STATES[status?.toLowerCase() ?? ''] ?? 'dead';
}
