/**
 * The fully qualified repository of an image reference, as the engine resolves it: `busybox:latest` ->
 * `docker.io/library/busybox`, `ghcr.io/acme/app@sha256:…` -> `ghcr.io/acme/app`, `127.0.0.1:5000/x` ->
 * `127.0.0.1:5000/x`. The first path component names a registry when it holds a `.` or a `:` or is `localhost`
 * (the rule of github.com/distribution/reference); otherwise the registry is Docker Hub.
 */
export function repositoryOf(reference: string): string {
  const name = reference.toLowerCase().split('@')[0]!.replace(/:[^/:]*$/, '');
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return name;
  return slash === -1 ? `docker.io/library/${name}` : `docker.io/${name}`;
}

/**
 * True when `reference` is under one of the allowlist's entries: a registry (`docker.io`, `registry.local:5000`)
 * or a repository prefix (`ghcr.io/acme`, `docker.io/library/busybox`), matched on whole path components.
 */
export function imageAllowed(reference: string, allowlist: readonly string[]): boolean {
  const repository = repositoryOf(reference);
  return allowlist.some((entry) => {
    const prefix = entry.toLowerCase().replace(/\/+$/, '');
    return repository === prefix || repository.startsWith(`${prefix}/`);
  });
}
