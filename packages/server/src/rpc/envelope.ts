import { z } from 'zod';

/**
 * The spec's request: `{method, args, timestamp}`; `timestamp` is Unix time in seconds as Python's
 * `time.time()` gives (a float), optional here so that hand-written calls work.
 */
export const RequestEnvelopeSchema = z.object({
  method: z.string().min(1),
  args: z.record(z.string(), z.unknown()).optional(),
  timestamp: z.number().nonnegative().optional(),
});
export type RequestEnvelope = z.infer<typeof RequestEnvelopeSchema>;

/** `result.error` on failure: a code from core's closed set (or `internal_error`) and a one-sentence detail. */
export const WireErrorSchema = z.object({ code: z.string(), detail: z.string() });

/**
 * The spec's answer: `{request: <the request exactly as received>, result: {status, message, ...}}`.
 * `result` keeps the spec's `status` and `message` and adds the method's fields (`node_id`, `process_id`,
 * `health`, `node`, `process`, …), or `error` when `status` is `failed`.
 */
export const ResponseEnvelopeSchema = z.object({
  request: z.unknown(),
  result: z
    .object({
      status: z.enum(['success', 'failed']),
      message: z.string(),
      error: WireErrorSchema.optional(),
    })
    .catchall(z.unknown()),
});
export type ResponseEnvelope = z.infer<typeof ResponseEnvelopeSchema>;
