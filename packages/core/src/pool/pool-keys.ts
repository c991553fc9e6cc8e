import { createHash } from 'node:crypto';
import type { NodeSpec } from '../schemas/node.js';

/** A value with object keys sorted, so equal specs give equal JSON whatever order their keys came in. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sorted(v)]),
    );
  }
  return value;
}

/**
 * The pool key of a spec (24 hex of a SHA-256 of its sorted JSON, with the image made explicit), or undefined
 * when a spec cannot be kept warm:
 * - a `name`: the node's hostname and DNS alias are its name, fixed at create;
 * - `env`: values are secrets, and a key derived from them would sit in a label;
 * - `ports`: published ports are fixed at create and bind host ports while pooled.
 */
export function poolKeyOf(spec: NodeSpec, defaultImage: string): string | undefined {
  if (spec.name !== undefined || (spec.env && Object.keys(spec.env).length > 0) || (spec.ports && spec.ports.length > 0)) return undefined;
  const json = JSON.stringify(sorted({ ...spec, image: spec.image ?? defaultImage }));
  return createHash('sha256').update(json).digest('hex').slice(0, 24);
}
