/** Injection tokens: the only names the composition root registers things under. */
export const TOKENS = {
  Config: Symbol.for('@nodes/core:Config'),
  Logger: Symbol.for('@nodes/core:Logger'),
  DockerClient: Symbol.for('@nodes/core:DockerClient'),
  ContainerEngine: Symbol.for('@nodes/core:ContainerEngine'),
} as const;
