// Address arithmetic, on ipaddr.js: prefixes, containment and overlap for both families.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface Prefix {
  text: string;
  family: Family;
  address: ipaddr.IPv4 | ipaddr.IPv6;
  length: number;
}

/** Parses "a.b.c.d/n" or "x::/n"; returns an error text instead of throwing. */
export function parsePrefix(text: string): Prefix | string {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(text);
  } catch {
    return 'is not a valid prefix; write it in CIDR form such as 192.0.2.0/24 or 2001:db8::/64';
  }
  const [address, length] = parsed;
  const family: Family = address.kind() === 'ipv4' ? 4 : 6;
  const network = family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
  if (network.toString() !== address.toString()) {
    return `has host bits set; use the network ${network.toString()}/${length}`;
  }
  return { text, family, address, length };
}

export function familyOf(address: string): Family {
  return ipaddr.parse(address).kind() === 'ipv4' ? 4 : 6;
}

export function contains(prefix: Prefix, address: string): boolean {
  const a = ipaddr.parse(address);
  if (a.kind() !== prefix.address.kind()) return false;
  return (a as ipaddr.IPv4).match(prefix.address as ipaddr.IPv4, prefix.length);
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  const shorter = a.length <= b.length ? a : b;
  const longer = shorter === a ? b : a;
  return contains(shorter, longer.address.toString());
}

/** The canonical text of an address (lowercase, compressed IPv6), for comparisons. */
export function canonical(address: string): string {
  return ipaddr.parse(address).toString();
}

/** The address without its length: "192.0.2.53/32" -> "192.0.2.53". */
export function prefixAddress(prefix: string): string {
  return prefix.split('/')[0]!;
}
