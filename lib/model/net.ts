// Address arithmetic, on ipaddr.js: prefixes, containment and overlap for both families.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

/** The longest prefix the internet carries, per family (RFC 7454 and common filtering practice). */
export const ROUTABLE_LENGTH = { 4: 24, 6: 48 } as const;

/**
 * Prefixes shorter than these are far wider than any one operator's block: as an announcement, a
 * hijack of other networks' addresses; as a typo, the length is what is wrong.
 */
export const SHORTEST_LENGTH = { 4: 16, 6: 32 } as const;

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
    // 198.51.100.10/26 is a host address with its subnet's length: the network is the fix. But
    // for 198.19.1.0/2 the length is the typo, and "use 192.0.0.0/2" would name a quarter of
    // the internet: name the /24 (/48) the address is in, what such a prefix usually is.
    if (length >= SHORTEST_LENGTH[family]) return `has host bits set; use the network ${network.toString()}/${length}`;
    const likely = ROUTABLE_LENGTH[family];
    const inside = family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(`${address}/${likely}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address}/${likely}`);
    return `has host bits set, and a /${length} is far wider than the address suggests; if you meant the /${likely} it is in, write ${inside.toString()}/${likely}`;
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
  return (longer.address as ipaddr.IPv4).match(shorter.address as ipaddr.IPv4, shorter.length);
}

/** The canonical text of an address (lowercase, compressed IPv6), for comparisons. */
export function canonical(address: string): string {
  return ipaddr.parse(address).toString();
}

/** The address without its length: "192.0.2.53/32" -> "192.0.2.53". */
export function prefixAddress(prefix: string): string {
  return prefix.split('/')[0]!;
}

/** The smallest prefix covering all of `prefixes` (one family). */
export function covering(prefixes: Prefix[]): Prefix {
  const [first] = prefixes;
  if (!first) throw new Error('internal: the covering prefix of no prefixes');
  if (prefixes.some((p) => p.family !== first.family)) throw new Error('internal: the covering prefix of mixed families');
  for (let length = Math.min(...prefixes.map((p) => p.length)); length >= 0; length--) {
    const network = first.family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(`${first.address}/${length}`) : ipaddr.IPv6.networkAddressFromCIDR(`${first.address}/${length}`);
    const p = parsePrefix(`${network.toString()}/${length}`);
    if (typeof p === 'string') throw new Error(`internal: ${network.toString()}/${length} ${p}`);
    if (prefixes.every((q) => contains(p, q.address.toString()))) return p;
  }
  throw new Error('internal: no covering prefix');
}

/** Where an IPv4 address sits in its prefix: 0 for the network address, size - 1 for the last. */
export function ipv4Offset(prefix: Prefix, address: string): { offset: number; size: number } {
  const value = (a: string) => ipaddr.IPv4.parse(a).toByteArray().reduce((n, b) => n * 256 + b, 0);
  return { offset: value(address) - value(prefix.address.toString()), size: 2 ** (32 - prefix.length) };
}
