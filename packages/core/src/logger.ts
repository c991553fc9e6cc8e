/** Context fields a log line may carry. Never put env values here: they carry secrets. */
export interface LogFields {
  nodeId?: string;
  containerId?: string;
  processId?: string;
  image?: string;
  durationMs?: number;
  [key: string]: unknown;
}

/**
 * The logging port. Its shape matches pino's `(fields, message)` call, so a pino logger can be passed as it is.
 * Core is silent unless one is given.
 */
export interface Logger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

/** A logger that drops every line: the default, so that a library never writes to the console uninvited. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
