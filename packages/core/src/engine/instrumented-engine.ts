import type { MetricsPort } from '../metrics.js';
import type { ContainerEngine } from './container-engine.js';

/**
 * A `ContainerEngine` decorator that reports every call's name, duration (ms) and failure code to `metrics`.
 * A Proxy, so a method added to the port later is measured with no change here; non-function members (such as
 * `endpoint`) pass through. Promises are timed until they settle; synchronous methods when they return.
 */
export function instrumentEngine<E extends ContainerEngine>(engine: E, metrics: MetricsPort): E {
  return new Proxy(engine, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return function (this: unknown, ...args: unknown[]) {
        const started = performance.now();
        const done = (error?: unknown) => metrics.engineCall(property, performance.now() - started, error === undefined ? undefined : codeOf(error));
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (error) {
          done(error);
          throw error;
        }
        if (result instanceof Promise) {
          return result.then(
            (v: unknown) => (done(), v),
            (error: unknown) => {
              done(error);
              throw error;
            },
          );
        }
        done();
        return result;
      };
    },
  });
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'internal_error';
}
