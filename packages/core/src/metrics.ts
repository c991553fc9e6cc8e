/**
 * Where core reports what a metrics system counts; the server backs it with prom-client, a library user may
 * pass their own, and by default nothing is recorded. Core never depends on a metrics library.
 */
export interface MetricsPort {
  /** One call of the `ContainerEngine` port: its name (`createContainer`…), how long it took (ms), and the `NodeError` code when it failed. */
  engineCall(call: string, durationMs: number, errorCode?: string): void;
  /** How many warm containers a pool holds now (a pool calls this when its size changes). */
  poolSize(size: number): void;
}

/** The default port: records nothing. */
export const noMetrics: MetricsPort = {
  engineCall: () => undefined,
  poolSize: () => undefined,
};
