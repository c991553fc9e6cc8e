import type { z } from 'zod';
import { ValidationError } from '../errors.js';

/**
 * Parses `input` with `schema` and returns the typed, defaulted value.
 * @param what names the input in the error message, for example `"node spec"`.
 * @throws {ValidationError} listing every failing field as `path: message`.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  throw new ValidationError(`invalid ${what}: ${issues.join('; ')}`, issues);
}
