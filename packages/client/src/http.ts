import { NodeError, ServerUnavailableError, nodeErrorFromWire } from '@nodes/core/errors';

/** Where a client sends its requests: the server's base URL and an optional bearer token. */
export interface Endpoint {
  url: string;
  token?: string;
  fetch: typeof fetch;
}

/** Headers every request carries: JSON and, when set, the bearer token. */
export function headersOf(endpoint: Endpoint, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, ...(endpoint.token ? { authorization: `Bearer ${endpoint.token}` } : {}) };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** The network code behind a failed fetch (`ECONNREFUSED`…), found in its cause chain. */
export function networkCodeOf(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
    if (Array.isArray((e as { errors?: unknown[] }).errors)) {
      const inner = (e as { errors: unknown[] }).errors.map(networkCodeOf).find(Boolean);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** The error a client throws when nothing answers at its URL: says how to start the server. */
export function serverUnavailable(url: string, error: unknown): ServerUnavailableError {
  const cause = (error as { cause?: unknown }).cause;
  const code = networkCodeOf(error) ?? (cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error));
  return new ServerUnavailableError(url, `no @nodes server answers at ${url} (${code}): start the server first (./scripts/start)`, { cause: error });
}

/**
 * Sends a request with `fetch`, turning network failures into `ServerUnavailableError`.
 * @throws {ServerUnavailableError} when the connection fails (refused, reset, unknown host).
 */
export async function send(endpoint: Endpoint, path: string, init: RequestInit): Promise<Response> {
  const url = new URL(path, endpoint.url).toString();
  try {
    return await endpoint.fetch(url, init);
  } catch (error) {
    if (init.signal?.aborted) throw error;
    throw serverUnavailable(endpoint.url, error);
  }
}

/**
 * Reads a JSON answer of the server; a `failed` result becomes the `NodeError` subclass of its code.
 * @throws {NodeError} the failure's subclass; `server_unavailable` when the answer is not the server's JSON.
 */
export async function readResult(endpoint: Endpoint, res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  let body: { result?: { status?: string; error?: { code: string; detail: string } } & Record<string, unknown> } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  const result = body?.result;
  if (!result || typeof result.status !== 'string') {
    throw new NodeError('server_unavailable', `${endpoint.url} answered HTTP ${res.status} without a @nodes answer: is NODES_URL a @nodes server?`);
  }
  if (result.status !== 'success') {
    throw nodeErrorFromWire(result.error ?? { code: 'internal_error', detail: `HTTP ${res.status} without an error` });
  }
  return result;
}
