import ipaddr from 'ipaddr.js';

type Cidr = [ipaddr.IPv4, number];

const toInt = (a: ipaddr.IPv4): number => a.octets.reduce((n, o) => n * 256 + o, 0);
const fromInt = (n: number): ipaddr.IPv4 => new ipaddr.IPv4([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);

/** Parses an IPv4 CIDR (`10.213.0.0/16`); undefined for anything else (IPv6 subnets never overlap ours). */
export function parseIpv4Cidr(cidr: string): Cidr | undefined {
  try {
    const [addr, bits] = ipaddr.parseCIDR(cidr);
    return addr.kind() === 'ipv4' ? [addr as ipaddr.IPv4, bits] : undefined;
  } catch {
    return undefined;
  }
}

/** True when two CIDRs share an address: one contains the other's network address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return a[0].match(b[0], Math.min(a[1], b[1]));
}

/**
 * The first subnet of `prefixLength` bits inside `pool` that overlaps none of `taken` (CIDRs of every network on
 * the engine), or undefined when the pool is full. Pure, so that a race lost to another manager can retry with
 * the loser's subnet added to `taken`.
 */
export function freeSubnet(pool: string, prefixLength: number, taken: string[]): string | undefined {
  const range = parseIpv4Cidr(pool);
  if (!range || prefixLength < range[1] || prefixLength > 30) return undefined;
  const used = taken.map(parseIpv4Cidr).filter((c): c is Cidr => c !== undefined);
  const start = toInt(ipaddr.IPv4.networkAddressFromCIDR(pool));
  const size = 2 ** (32 - prefixLength);
  const count = 2 ** (prefixLength - range[1]);
  for (let i = 0; i < count; i++) {
    const candidate: Cidr = [fromInt(start + i * size), prefixLength];
    if (!used.some((u) => overlaps(u, candidate))) return `${candidate[0].toString()}/${prefixLength}`;
  }
  return undefined;
}
