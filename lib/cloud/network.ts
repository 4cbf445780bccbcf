// The network of an aws site, from the model's subnets: one VPC whose CIDR covers every site
// subnet, one public subnet per model subnet (exact prefixes, so host addresses stay valid), each
// in an availability zone picked by its position in name order.
import ipaddr from 'ipaddr.js';
import type { Site } from '../model/schema.ts';

export interface SubnetShape {
  /** Model key (subnets.<name>). */
  name: string;
  cidr: string;
  /** Index into the region's pinned availability zones (wraps around). */
  azIndex: number;
}

export interface NetworkShape {
  vpcCidr: string;
  subnets: SubnetShape[];
}

/** EC2 takes VPC and subnet prefixes from /16 to /28. */
export const MIN_PREFIX = 16;
export const MAX_PREFIX = 28;

export function networkShape(site: Site): NetworkShape {
  const subnets = Object.entries(site.subnets)
    .filter(([, cidr]) => !cidr.includes(':'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, cidr], i): SubnetShape => ({ name, cidr, azIndex: i }));
  return { vpcCidr: supernet(subnets.map((s) => s.cidr)), subnets };
}

/** The model subnet that holds `address` (aws sites: IPv4 only). */
export function subnetOf(network: NetworkShape, address: string): SubnetShape | undefined {
  const a = ipaddr.IPv4.parse(address);
  return network.subnets.find((s) => a.match(ipaddr.IPv4.parseCIDR(s.cidr)));
}

/** AWS keeps the first four addresses and the last one of every subnet for itself. */
export function isAwsReserved(subnetCidr: string, address: string): boolean {
  const [net, len] = ipaddr.IPv4.parseCIDR(subnetCidr);
  const first = toInt(net);
  const last = first + 2 ** (32 - len) - 1;
  const a = toInt(ipaddr.IPv4.parse(address));
  return a - first < 4 || a === last;
}

/** The smallest prefix covering all of `cidrs` (IPv4). */
export function supernet(cidrs: string[]): string {
  if (cidrs.length === 0) throw new Error('internal: supernet of no prefixes');
  const ranges = cidrs.map((c) => {
    const [net, len] = ipaddr.IPv4.parseCIDR(c);
    const first = toInt(net);
    return [first, first + 2 ** (32 - len) - 1] as const;
  });
  const lo = Math.min(...ranges.map((r) => r[0]));
  const hi = Math.max(...ranges.map((r) => r[1]));
  let len = 32;
  while (len > 0 && (mask(lo, len) !== mask(hi, len) || mask(lo, len) + 2 ** (32 - len) - 1 < hi)) len--;
  return `${fromInt(mask(lo, len))}/${len}`;
}

function mask(n: number, len: number): number {
  const size = 2 ** (32 - len);
  return Math.floor(n / size) * size;
}

function toInt(a: ipaddr.IPv4): number {
  return a.toByteArray().reduce((n, b) => n * 256 + b, 0);
}

function fromInt(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
