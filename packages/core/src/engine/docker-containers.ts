import type Docker from 'dockerode';
import { NodeError } from '../errors.js';
import type { ContainerCreateOptions, ContainerSummary } from './container-engine.js';
import { containerStateOf } from './container-states.js';
import { fromEnvList, toEnvList } from './docker-env.js';
import type { EngineCall } from './docker-exec.js';
import { statusOf } from './docker-errors.js';
import { networkingOf, networksOf, portsOf } from './docker-network-mapping.js';

/** Containers on the Docker Engine API: create, start, rename, remove, inspect, list, pause, unpause. */

export async function createContainer(docker: Docker, call: EngineCall, options: ContainerCreateOptions): Promise<string> {
  const networking = networkingOf(options);
  const container = await call(`create container "${options.name}"`, (abortSignal) =>
    docker.createContainer({
      abortSignal,
      ExposedPorts: networking.exposedPorts,
      NetworkingConfig: networking.networkingConfig,
      name: options.name,
      Image: options.image,
      Env: toEnvList(options.env),
      Labels: options.labels,
      Cmd: options.cmd,
      WorkingDir: options.workingDir,
      Hostname: options.hostname,
      User: options.user,
      HostConfig: {
        // An init process (docker-init) reaps orphaned children and forwards signals; see docker run --init.
        // Not for a host helper: it shares the host's pids, where Podman refuses an init ("PID namespace isn't
        // private") and the host's init reaps anyway.
        Init: !options.hostHelper,
        Memory: options.memoryBytes,
        // Equal to Memory: no swap on top, so a memory hog meets its limit instead of swapping the host.
        MemorySwap: options.memoryBytes,
        NanoCpus: options.nanoCpus,
        PidsLimit: options.pidsLimit,
        // setuid binaries and file capabilities cannot raise a node's privileges (docker run --security-opt).
        SecurityOpt: ['no-new-privileges', ...(options.hostHelper ? ['apparmor=unconfined'] : [])],
        ...networking.hostConfig,
        ...(options.hostHelper ? { NetworkMode: 'host', PidMode: 'host', CapAdd: options.hostHelper.capAdd } : {}),
      },
    } as Docker.ContainerCreateOptions),
  );
  return container.id;
}

export async function startContainer(docker: Docker, call: EngineCall, id: string): Promise<void> {
  try {
    await call(`start container ${id.slice(0, 12)}`, (abortSignal) => docker.getContainer(id).start({ abortSignal } as {}));
  } catch (error) {
    // 304: already started, which is what we wanted.
    if (error instanceof NodeError && statusOf(error.cause) === 304) return;
    throw error;
  }
}

export async function renameContainer(docker: Docker, call: EngineCall, id: string, name: string): Promise<void> {
  await call(`rename container ${id.slice(0, 12)} to "${name}"`, (abortSignal) =>
    docker.getContainer(id).rename({ name, abortSignal } as {}),
  );
}

export async function removeContainer(docker: Docker, call: EngineCall, id: string): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await call(`remove container ${id.slice(0, 12)}`, (abortSignal) =>
        docker.getContainer(id).remove({ force: true, v: true, abortSignal } as {}),
      );
      return true;
    } catch (error) {
      const status = error instanceof NodeError ? statusOf(error.cause) : undefined;
      if (status === 404) return false;
      // 409 "removal of container … is already in progress": wait for the other removal to finish.
      if (status === 409 && attempt < 50) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      throw error;
    }
  }
}

export async function inspectContainer(docker: Docker, call: EngineCall, id: string): Promise<ContainerSummary | undefined> {
  try {
    const info = await call(`inspect container ${id.slice(0, 12)}`, (abortSignal) =>
      docker.getContainer(id).inspect({ abortSignal } as {}),
    );
    const state = containerStateOf(info.State?.Status);
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      image: info.Config.Image,
      state,
      exitCode: state === 'exited' || state === 'dead' ? info.State.ExitCode : undefined,
      labels: info.Config.Labels ?? {},
      env: fromEnvList(info.Config.Env ?? []),
      createdAt: new Date(info.Created).toISOString(),
      // The engine reports "0001-01-01T00:00:00Z" for a container that never started.
      startedAt: info.State?.StartedAt && !info.State.StartedAt.startsWith('0001-') ? new Date(info.State.StartedAt).toISOString() : undefined,
      ...(info.State?.OOMKilled ? { oomKilled: true } : {}),
      networks: networksOf(info.NetworkSettings?.Networks),
      ports: portsOf(info.NetworkSettings?.Ports as never),
      pid: info.State?.Pid || undefined,
    };
  } catch (error) {
    if (error instanceof NodeError && statusOf(error.cause) === 404) return undefined;
    throw error;
  }
}

export async function listContainers(docker: Docker, call: EngineCall, labels: Record<string, string>, name?: string): Promise<ContainerSummary[]> {
  const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`), ...(name === undefined ? {} : { name: [name] }) };
  const list = await call('list containers', (abortSignal) =>
    docker.listContainers({ all: true, filters: JSON.stringify(filters), abortSignal } as {}),
  );
  return list.map((c) => {
    const state = containerStateOf(c.State);
    const exit = /Exited \((-?\d+)\)/.exec(c.Status ?? '');
    return {
      id: c.Id,
      name: (c.Names?.[0] ?? '').replace(/^\//, ''),
      image: c.Image,
      state,
      exitCode: exit ? Number(exit[1]) : undefined,
      labels: c.Labels ?? {},
      createdAt: new Date(c.Created * 1000).toISOString(),
      networks: networksOf(c.NetworkSettings?.Networks).map((n) => ({ ...n, aliases: [] })),
      ports: (c.Ports ?? [])
        .filter((p) => p.PublicPort)
        .map((p) => ({ containerPort: p.PrivatePort, protocol: p.Type === 'udp' ? 'udp' : 'tcp', hostIp: p.IP ?? '', hostPort: p.PublicPort ?? 0 })),
    };
  });
}

export async function pauseContainer(docker: Docker, call: EngineCall, id: string): Promise<void> {
  await call(`pause container ${id.slice(0, 12)}`, (abortSignal) => docker.getContainer(id).pause({ abortSignal } as {}));
}

export async function unpauseContainer(docker: Docker, call: EngineCall, id: string): Promise<void> {
  await call(`unpause container ${id.slice(0, 12)}`, (abortSignal) => docker.getContainer(id).unpause({ abortSignal } as {}));
}
