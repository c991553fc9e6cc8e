import { InvalidArgumentError } from 'commander';

/** Collects a repeated option (`-e A=1 -e B=2`) into an array. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `K=V` pairs into a record (`-e`, `--label`); a pair without `=` is a usage error. */
export function pairs(values: string[] | undefined, what: string): Record<string, string> | undefined {
  if (!values || values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`${what} "${v}" must be KEY=VALUE`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** A port mapping as `create_node` takes it: `{container_port, host_port?, protocol?}`. */
export interface PortMapping {
  container_port: number;
  host_port?: number;
  protocol?: 'tcp' | 'udp';
}

/** `-p` as docker writes it: `8080`, `18080:8080`, `8080/udp`, `18080:8080/tcp`. */
export function portMapping(text: string): PortMapping {
  const m = /^(?:(\d{1,5}):)?(\d{1,5})(?:\/(tcp|udp))?$/.exec(text);
  const valid = (n: number) => n >= 1 && n <= 65535;
  if (!m || !valid(Number(m[2])) || (m[1] !== undefined && !valid(Number(m[1])))) {
    throw new InvalidArgumentError(`port "${text}" must be CONTAINER_PORT, HOST_PORT:CONTAINER_PORT or either with /tcp or /udp`);
  }
  return {
    container_port: Number(m[2]),
    ...(m[1] !== undefined ? { host_port: Number(m[1]) } : {}),
    ...(m[3] ? { protocol: m[3] as 'tcp' | 'udp' } : {}),
  };
}

/** A positive whole number option (ms, bytes). */
export function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${text}" must be a positive whole number`);
  return n;
}
