/**
 * The closed set of failure codes that @nodes reports, in the library (`NodeError.code`) and on the wire
 * (`result.error.code`). `internal_error` is the server's answer to a failure it did not expect;
 * `server_unavailable` is the HTTP client's when no server answers.
 */
export const NODE_ERROR_CODES = [
  'validation_failed',
  'node_not_found',
  'process_not_found',
  'conflict',
  'wrong_state',
  'image_unavailable',
  'engine_unavailable',
  'engine_error',
  'timeout',
  'unknown_method',
  'invalid_request',
  'unauthorized',
  'forbidden',
  'limit_exceeded',
  'not_found',
  'too_large',
  'internal_error',
  'server_unavailable',
] as const;
export type NodeErrorCode = (typeof NODE_ERROR_CODES)[number];

/**
 * Base class of every error @nodes throws on purpose. `code` is machine-readable, `message` is one sentence
 * naming the node and the fact; the engine's own error, when there is one, is kept as `cause` and never shown.
 */
export class NodeError extends Error {
  override readonly name: string = 'NodeError';
  constructor(
    readonly code: NodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Input failed its zod schema; `issues` lists `path: message` for each problem. */
export class ValidationError extends NodeError {
  override readonly name = 'ValidationError';
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super('validation_failed', message);
  }
}

/** No node with this id exists in the manager's namespace (the engine holds no container for it). */
export class NodeNotFoundError extends NodeError {
  override readonly name = 'NodeNotFoundError';
  constructor(readonly nodeId: string) {
    super('node_not_found', `node "${nodeId}" does not exist`);
  }
}

/** No process with this id was started in the node (or its record was lost with the node's filesystem). */
export class ProcessNotFoundError extends NodeError {
  override readonly name = 'ProcessNotFoundError';
  constructor(
    readonly nodeId: string,
    readonly processId: string,
  ) {
    super('process_not_found', `process "${processId}" does not exist on node "${nodeId}"`);
  }
}

/** Another operation holds the node, or the engine reported a conflict (HTTP 409) that did not clear. */
export class ConflictError extends NodeError {
  override readonly name = 'ConflictError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
  }
}

/** The node or process is in a state that does not allow the operation (for example a stopped container). */
export class WrongStateError extends NodeError {
  override readonly name = 'WrongStateError';
  constructor(message: string) {
    super('wrong_state', message);
  }
}

/** The image is not on the engine and could not be pulled (no registry, unknown name, pulls disabled). */
export class ImageUnavailableError extends NodeError {
  override readonly name = 'ImageUnavailableError';
  constructor(
    readonly image: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('image_unavailable', message, options);
  }
}

/** The engine did not answer: socket missing, connection refused, or no answer within the request timeout. */
export class EngineUnavailableError extends NodeError {
  override readonly name = 'EngineUnavailableError';
  constructor(
    readonly endpoint: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('engine_unavailable', message, options);
  }
}

/** The engine answered with an error we have no better name for (HTTP 500 and the like). */
export class EngineError extends NodeError {
  override readonly name = 'EngineError';
  constructor(
    message: string,
    readonly statusCode?: number,
    options?: { cause?: unknown },
  ) {
    super('engine_error', message, options);
  }
}

/** An operation did not finish within its deadline; the message names the deadline in ms. */
export class TimeoutError extends NodeError {
  override readonly name = 'TimeoutError';
  constructor(message: string) {
    super('timeout', message);
  }
}

/** An operator limit would be passed: the namespace already holds its maximum of nodes. */
export class LimitExceededError extends NodeError {
  override readonly name = 'LimitExceededError';
  constructor(message: string) {
    super('limit_exceeded', message);
  }
}

/** No @nodes server answers at the client's base URL (connection refused, reset, DNS failure). */
export class ServerUnavailableError extends NodeError {
  override readonly name = 'ServerUnavailableError';
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('server_unavailable', message, options);
  }
}

/** A path in a node does not exist (a file to read, a directory to list, a parent to write into). */
export class PathNotFoundError extends NodeError {
  override readonly name = 'PathNotFoundError';
  constructor(
    readonly nodeId: string,
    readonly path: string,
  ) {
    super('not_found', `"${path}" does not exist on node "${nodeId}"`);
  }
}

/** Data is larger than the limit that applies to it; the message names both sizes in bytes. */
export class TooLargeError extends NodeError {
  override readonly name = 'TooLargeError';
  constructor(message: string) {
    super('too_large', message);
  }
}

/**
 * The `NodeError` subclass of a wire failure `{code, detail}`, with `detail` as its message: what the HTTP client
 * throws, so that `instanceof NodeNotFoundError` works the same over HTTP as in the library. Unknown codes give a
 * base `NodeError`.
 */
export function nodeErrorFromWire(error: { code: string; detail: string }): NodeError {
  const { code, detail } = error;
  const make = (): NodeError => {
    switch (code) {
      case 'validation_failed':
        return new ValidationError(detail, [detail]);
      case 'node_not_found':
        return new NodeNotFoundError(/"([^"]+)"/.exec(detail)?.[1] ?? '');
      case 'process_not_found': {
        const [, processId = '', nodeId = ''] = /"(p-[0-9a-f]+)".*"(n-[0-9a-f]+)"/.exec(detail) ?? [];
        return new ProcessNotFoundError(nodeId, processId);
      }
      case 'conflict':
        return new ConflictError(detail);
      case 'wrong_state':
        return new WrongStateError(detail);
      case 'image_unavailable':
        return new ImageUnavailableError(/"([^"]+)"/.exec(detail)?.[1] ?? '', detail);
      case 'engine_unavailable':
        return new EngineUnavailableError('', detail);
      case 'engine_error':
        return new EngineError(detail);
      case 'timeout':
        return new TimeoutError(detail);
      case 'limit_exceeded':
        return new LimitExceededError(detail);
      case 'not_found': {
        const [, path = '', nodeId = ''] = /^"(.*)" does not exist on node "([^"]+)"$/.exec(detail) ?? [];
        return new PathNotFoundError(nodeId, path);
      }
      case 'too_large':
        return new TooLargeError(detail);
      default:
        return new NodeError(code as NodeErrorCode, detail);
    }
  };
  const e = make();
  e.message = detail;
  return e;
}
