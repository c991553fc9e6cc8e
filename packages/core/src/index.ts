export { createNodeManager, createCoreInjector, type CompositionOverrides, type ResolvedConfig } from './composition-root.js';
export { NodeManager, type NodeHandle } from './node-manager.js';
export { ConfigSchema, MIN_MEMORY_BYTES, MIN_NANO_CPUS, MIN_PIDS_LIMIT, type NodesConfig, type NodesOptions } from './config.js';
export { OPTION_ENV, optionsFromEnv } from './config-env.js';
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
  NODE_ERROR_CODES,
  nodeErrorFromWire,
  LimitExceededError,
  PathNotFoundError,
  TooLargeError,
  type NodeErrorCode,
} from './errors.js';
export { silentLogger, type Logger, type LogFields } from './logger.js';
export { TOKENS } from './tokens.js';
export { noMetrics, type MetricsPort } from './metrics.js';
export { instrumentEngine } from './engine/instrumented-engine.js';
export { NodeIdSchema, NodeNameSchema, NodeRefSchema, ProcessIdSchema, EnvSchema, ContainerStateSchema, type NodeId, type ProcessId, type ContainerState } from './schemas/common.js';
export { NodeSpecSchema, NodeSpecInputSchema, NodeSchema, type NodeSpec, type NodeSpecInput, type NodeInfo } from './schemas/node.js';
export { PortSpecSchema, PortSpecsSchema, NodePortSchema, MAX_NODE_PORTS, type PortSpec, type NodePort } from './schemas/ports.js';
export { NetworkSegmentSchema, NodeNetworkSchema, MAX_NODE_NETWORKS, type NodeNetwork } from './schemas/network.js';
export { NetworkService, type AddressBook } from './network/network-service.js';
export { networkNameOf, aliasesOf, segmentsOf, DEFAULT_SEGMENT } from './network/network-names.js';
export { HealthSchema, HealthReasonSchema, type Health, type HealthReason } from './schemas/health.js';
export {
  ProcessConfigSchema,
  ProcessRecordSchema,
  ProcessStatusSchema,
  SignalSchema,
  OutputStreamSchema,
  OutputQuerySchema,
  OutputChunkSchema,
  OutputEncodingSchema,
  LogsQuerySchema,
  ProcessLogsSchema,
  DEFAULT_KILL_GRACE_MS,
  KillOptionsSchema,
  WaitOptionsSchema,
  FollowOptionsSchema,
  FollowChunkSchema,
  ExecAnswerSchema,
  type FollowOptions,
  type FollowChunk,
  type FollowEvent,
  type ExecAnswer,
  type ProcessConfig,
  type ProcessConfigInput,
  type ProcessRecord,
  type ProcessStatus,
  type OutputStream,
  type OutputQuery,
  type OutputChunk,
  type OutputEncoding,
  type LogsQuery,
  type ProcessLogs,
  type KillOptions,
  type WaitOptions,
} from './schemas/process.js';
export { parseInput } from './schemas/parse.js';
export { imageAllowed, repositoryOf } from './image/image-reference.js';
export { LABELS } from './node/labels.js';
export { KEEPALIVE_COMMAND } from './node/container-options.js';
export { WarmPool } from './pool/warm-pool.js';
export { LEARN_AFTER_ASKS, MAX_LEARNED_SPECS } from './pool/pool-wants.js';
export { parsePoolName, poolNameOf, recordNameOf, type NamedRecord, type PoolNameKind } from './pool/pool-names.js';
export { poolKeyOf } from './pool/pool-keys.js';
export {
  PruneReasonSchema,
  PrunedContainerSchema,
  PruneResultSchema,
  type PruneReason,
  type PrunedContainer,
  type PruneResult,
} from './node/prune.js';
export type {
  ContainerEngine,
  ContainerCreateOptions,
  ContainerSummary,
  ExecOptions,
  ExecResult,
  EngineVersion,
  SpawnOptions,
  SpawnResult,
  ExecInfo,
  AttachedExec,
  EngineEvent,
  EventSubscription,
  NetworkEndpoint,
  NetworkSummary,
  NetworkCreateOptions,
  ContainerNetwork,
  PortBinding,
} from './engine/container-engine.js';
export {
  FilePathSchema,
  DirectoryPathSchema,
  FileModeSchema,
  WriteFileOptionsSchema,
  FileInfoSchema,
  FileTypeSchema,
  FileEntrySchema,
  FileListingSchema,
  type WriteFileOptions,
  type FileInfo,
  type FileType,
  type FileEntry,
  type FileListing,
} from './schemas/files.js';
export { FileService, DEFAULT_READ_MAX_BYTES } from './files/file-service.js';
export { PartitionSchema, LinkSchema, NodeFaultsSchema, type Partition, type Link, type LinkInput, type NodeFaults } from './schemas/faults.js';
export { FaultService } from './network/fault-service.js';
export { NetworkAgent, agentNameOf } from './network/agent.js';
