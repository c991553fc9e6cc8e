import { EventSourceParserStream } from 'eventsource-parser/stream';
import { nodeErrorFromWire } from '@nodes/core/errors';
import { headersOf, readResult, send, serverUnavailable, type Endpoint } from './http.js';
import type { LogEvent, WireProcess } from './types.js';

/** Options of `followLogs`. */
export interface FollowOptions {
  /** `utf8` text (default) or `base64` of the exact bytes. */
  encoding?: 'utf8' | 'base64';
  /** Keep following until the process ends (default true); false reads what is there and ends. */
  follow?: boolean;
  /** Resume after this event id (`<stdout offset>,<stderr offset>`), as a `Last-Event-ID`. */
  lastEventId?: string;
  /** How many reconnections in a row may fail before giving up (default 5); an event resets the count. */
  retries?: number;
  /** Wait before the n-th reconnection: n times this (ms, default 250). */
  retryDelayMs?: number;
  /** Stops following (the iterator ends with the signal's reason). */
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * A process's output as an async iterator over the server's SSE route
 * (`GET /nodes/{node_id}/processes/{process_id}/logs?follow=1`): `stdout` and `stderr` events, then one `end`
 * with the final record. When the connection drops before `end`, it reconnects with `Last-Event-ID` set to the
 * last event's id, so no byte is lost or repeated.
 * @throws {NodeError} the subclass of the server's failure (unknown node or process) or of an `error` event.
 * @throws {ServerUnavailableError} when the server stays unreachable for `retries` attempts.
 */
export async function* followLogs(endpoint: Endpoint, nodeId: string, processId: string, options: FollowOptions = {}): AsyncGenerator<LogEvent, WireProcess | undefined> {
  const retries = options.retries ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const query = new URLSearchParams({ follow: options.follow === false ? '0' : '1', ...(options.encoding ? { encoding: options.encoding } : {}) });
  const path = `nodes/${encodeURIComponent(nodeId)}/processes/${encodeURIComponent(processId)}/logs?${query}`;
  let lastId = options.lastEventId;
  let failures = 0;
  for (;;) {
    let lastError: unknown;
    try {
      const res = await send(endpoint, path, {
        headers: headersOf(endpoint, { accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) }),
        signal: options.signal,
      });
      if (!res.ok || !res.body) await readResult(endpoint, res); // throws the failure's NodeError
      const events = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
      for await (const message of events) {
        const data = JSON.parse(message.data) as Record<string, unknown>;
        if (message.event === 'error') throw nodeErrorFromWire(data as { code: string; detail: string });
        if (message.id) lastId = message.id;
        failures = 0;
        if (message.event === 'end') {
          const process = data.process as WireProcess;
          yield { type: 'end', process, id: message.id ?? lastId ?? '' };
          return process;
        }
        if (message.event === 'stdout' || message.event === 'stderr') {
          yield { type: message.event, data: data.data as string, encoding: data.encoding as 'utf8' | 'base64', offset: data.offset as number, id: message.id ?? '' };
        }
      }
      if (options.follow === false) return undefined;
    } catch (error) {
      if (options.signal?.aborted) return undefined;
      // A NodeError from the server (unknown process, node gone) is an answer: never retried.
      if ((error as { code?: string }).code && (error as { name?: string }).name !== 'ServerUnavailableError' && !(error instanceof TypeError)) throw error;
      lastError = error;
    }
    // The stream ended or broke before `end`: reconnect from the last event id.
    failures += 1;
    if (failures > retries) throw serverUnavailable(endpoint.url, lastError ?? new Error('the stream ended before its end event'));
    await sleep(retryDelayMs * failures, options.signal);
    if (options.signal?.aborted) return undefined;
  }
}
