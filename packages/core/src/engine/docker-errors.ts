import {
  ConflictError,
  EngineError,
  EngineUnavailableError,
  NodeError,
  ValidationError,
  WrongStateError,
} from '../errors.js';

/** The fields dockerode and docker-modem put on their errors. */
interface DockerodeError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | Buffer | null;
  message?: string;
}

const SOCKET_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EACCES', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

/** The engine's own message of an HTTP error, without docker-modem's "(HTTP code …)" prefix. */
export function engineMessage(error: unknown): string {
  const e = error as DockerodeError;
  const json = e?.json;
  if (json && !Buffer.isBuffer(json) && typeof json.message === 'string') return json.message;
  if (Buffer.isBuffer(json) && json.length > 0) return json.toString('utf8').trim();
  return String(e?.message ?? error);
}

/**
 * Maps a dockerode error to ours: socket errors to `EngineUnavailableError`, 409 (and Podman's 500 for a name
 * already in use) to `ConflictError` and anything else to `EngineError`. Callers handle 404 and 304 themselves, where they mean something.
 * @param what names the operation, for example `create container for node "n-…"`.
 */
export function mapDockerError(error: unknown, endpoint: string, what: string): NodeError {
  if (error instanceof NodeError) return error;
  const e = error as DockerodeError;
  if (e?.code && SOCKET_CODES.has(e.code)) {
    return new EngineUnavailableError(endpoint, `engine at ${endpoint} is unavailable (${e.code}) during ${what}`, {
      cause: error,
    });
  }
  // The engine answers 409, and for an exec sometimes 500, when the container changed under the call.
  const message = typeof e?.statusCode === 'number' ? engineMessage(error) : '';
  if (/removal in progress|is already in progress|is marked for removal/i.test(message)) {
    return new ConflictError(`${what} failed: the container is being removed`, { cause: error });
  }
  if (e?.statusCode === 500 && /port is already allocated|bind: address already in use/i.test(message)) {
    return new ConflictError(`${what} failed: a published host port is taken (${message.replace(/^.*?(Bind for|listen)/, '$1')})`, { cause: error });
  }
  if ((e?.statusCode === 409 || e?.statusCode === 500) && /is not running|is paused|is restarting|container not running/i.test(message)) {
    return new WrongStateError(`${what} failed: ${message}`);
  }
  // 400: the engine refused the request's values (CPUs beyond the machine's, a bad memory limit…): the caller's.
  if (e?.statusCode === 400) return new ValidationError(`${what} refused by the engine: ${message}`, [message]);
  // A spec's `user` the image does not know fails only at start, as a 500: it is still the caller's value.
  if (/unable to find user|no matching entries in (passwd|group) file/i.test(message)) {
    return new ValidationError(`${what} refused by the engine: ${message}`, [`user: ${message}`]);
  }
  // Podman answers a name (of a container or network) already taken with 500 "… already in use" or "… already
  // exists" where Docker answers 409.
  if (e?.statusCode === 409 || (e?.statusCode === 500 && /already in use|already exists/i.test(message))) {
    return new ConflictError(`${what} failed: ${message}`, { cause: error });
  }
  if (typeof e?.statusCode === 'number') {
    return new EngineError(`${what} failed: ${engineMessage(error)}`, statusOf(error), { cause: error });
  }
  return new EngineError(`${what} failed: ${String(e?.message ?? error)}`, undefined, { cause: error });
}

/**
 * The HTTP status of a dockerode error, when the engine answered. Podman answers some lookups of an object that
 * is gone (a container removed under an inspect) with 500 "no such container" where Docker says 404: read as 404.
 */
export function statusOf(error: unknown): number | undefined {
  const status = (error as DockerodeError)?.statusCode;
  if (status === 500 && /no such (container|exec|network|image)|does not exist in database/i.test(engineMessage(error))) return 404;
  return typeof status === 'number' ? status : undefined;
}

/**
 * A short reason for a failed pull, from the engine's message, so that no registry reply reaches the caller:
 * the engine quotes what the registry answered, and a registry can be any host the image reference names.
 */
export function pullFailureReason(engineMessage: string): string {
  if (/manifest unknown|not found|does not exist|pull access denied/i.test(engineMessage)) return 'not found in its registry, or access denied';
  if (/unauthorized|authentication required|denied|forbidden/i.test(engineMessage)) return 'access denied by its registry';
  if (/connection refused|no such host|i\/o timeout|timeout|dial tcp|tls|x509|certificate|http response to https client|connection reset|EOF/i.test(engineMessage)) {
    return 'its registry could not be reached';
  }
  if (/error parsing HTTP|unexpected HTTP status|invalid character|unexpected (EOF|end)/i.test(engineMessage)) return 'its registry gave an answer the engine could not use';
  return 'the pull failed';
}
