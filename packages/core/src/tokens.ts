/** Injection tokens: the only names the composition root registers things under. */
export const TOKENS = {
  Config: Symbol.for('@nodes/core:Config'),
  Logger: Symbol.for('@nodes/core:Logger'),
  DockerClient: Symbol.for('@nodes/core:DockerClient'),
  ContainerEngine: Symbol.for('@nodes/core:ContainerEngine'),
  /** The `MetricsPort` (default: one that records nothing); a warm pool reports its size to it. */
  Metrics: Symbol.for('@nodes/core:Metrics'),
} as const;
