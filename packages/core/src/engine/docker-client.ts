import Docker from 'dockerode';
import { ValidationError } from '../errors.js';

/** The engine endpoint to use: the explicit one, else `DOCKER_HOST`, else the default socket (as the docker CLI). */
export function resolveDockerHost(dockerHost: string | undefined): string {
  return dockerHost ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/**
 * Makes a dockerode client for an endpoint in `DOCKER_HOST` form: `unix:///path/to/socket` or
 * `tcp://host:port` (plain HTTP; TLS endpoints are read from `DOCKER_CERT_PATH` by dockerode itself
 * when no endpoint is given).
 * @throws {ValidationError} when the endpoint is not of either form.
 */
export function createDockerClient(endpoint: string): Docker {
  if (endpoint.startsWith('unix://')) {
    return new Docker({ socketPath: endpoint.slice('unix://'.length) || '/var/run/docker.sock' });
  }
  if (endpoint.startsWith('tcp://') || endpoint.startsWith('http://') || endpoint.startsWith('https://')) {
    const url = new URL(endpoint.replace(/^tcp:/, 'http:'));
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    return new Docker({ host: url.hostname, port: Number(url.port || (protocol === 'https' ? 2376 : 2375)), protocol });
  }
  throw new ValidationError(`invalid engine endpoint "${endpoint}": use unix:///path or tcp://host:port`);
}
