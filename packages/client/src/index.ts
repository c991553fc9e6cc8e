export { NodesClient, createClient, DEFAULT_URL, type ClientOptions } from './client.js';
export type { FollowOptions } from './follow-logs.js';
export type { Args, Result, Options, LogEvent, MethodName, NodeSpecInput, ProcessConfigInput, WireHealth, WireNode, WireOutput, WireProcess } from './types.js';
export {
  NodeError,
  ValidationError,
  NodeNotFoundError,
  ProcessNotFoundError,
  ConflictError,
  WrongStateError,
  ImageUnavailableError,
  EngineUnavailableError,
  EngineError,
  TimeoutError,
  ServerUnavailableError,
  type NodeErrorCode,
} from '@nodes/core/errors';
