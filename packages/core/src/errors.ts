/**
 * The closed set of failure codes that @nodes reports, in the library (`NodeError.code`) and on the wire
 * (`result.error.code`).
 */
export type NodeErrorCode =
  | 'validation_failed'
  | 'node_not_found'
  | 'process_not_found'
  | 'conflict'
  | 'wrong_state'
  | 'image_unavailable'
  | 'engine_unavailable'
  | 'engine_error'
  | 'timeout'
  | 'unknown_method'
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden';

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
