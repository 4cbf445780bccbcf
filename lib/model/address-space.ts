// Where a prefix lies in the address space, for the rules about what the internet can reach: an
// anycast prefix is announced to it and a published VIP is handed to its clients. Private space
// serves a deliberately internal CDN (`internal: true`); the special ranges serve no CDN at all.
// Documentation and benchmarking space (192.0.2.0/24, 198.18.0.0/15, 2001:db8::/32) is not
// listed: examples and labs stand in for public addresses with it.
import { overlaps, parsePrefix, type Prefix } from './net.ts';

export interface Space {
  /** The range, as written here. */
  range: string;
  /** In words, for messages. */
  name: string;
  /** private: routed inside networks, never on the internet. special: routed nowhere as a unicast service. */
  kind: 'private' | 'special';
}

const SPACES: Space[] = [
  { range: '10.0.0.0/8', name: 'private space (RFC 1918)', kind: 'private' },
  { range: '172.16.0.0/12', name: 'private space (RFC 1918)', kind: 'private' },
  { range: '192.168.0.0/16', name: 'private space (RFC 1918)', kind: 'private' },
  { range: '100.64.0.0/10', name: 'shared address space of carrier-grade NAT (RFC 6598)', kind: 'private' },
  { range: 'fc00::/7', name: 'unique local space (RFC 4193)', kind: 'private' },
  { range: '0.0.0.0/8', name: '"this network" (RFC 1122)', kind: 'special' },
  { range: '127.0.0.0/8', name: 'loopback space', kind: 'special' },
  { range: '169.254.0.0/16', name: 'link-local space', kind: 'special' },
  { range: '224.0.0.0/4', name: 'multicast space', kind: 'special' },
  { range: '240.0.0.0/4', name: 'reserved space (RFC 1112) and the broadcast address', kind: 'special' },
  { range: '::/127', name: 'the unspecified and loopback addresses', kind: 'special' },
  { range: '::ffff:0:0/96', name: 'IPv4-mapped space', kind: 'special' },
  { range: 'fe80::/10', name: 'link-local space', kind: 'special' },
  { range: 'ff00::/8', name: 'multicast space', kind: 'special' },
];

const PARSED = SPACES.map((s) => {
  const p = parsePrefix(s.range);
  if (typeof p === 'string') throw new Error(`internal: address space ${s.range} ${p}`);
  return { space: s, prefix: p };
});

/** The special or private range `p` overlaps (special first), if any; `within` when `p` lies inside it. */
export function spaceOf(p: Prefix): (Space & { within: boolean }) | undefined {
  const hits = PARSED.filter((s) => overlaps(s.prefix, p)).map((s) => ({ ...s.space, within: p.length >= s.prefix.length }));
  return hits.find((s) => s.kind === 'special') ?? hits[0];
}

/** The same for one address. */
export function spaceOfAddress(address: string): Space | undefined {
  const p = parsePrefix(`${address}/${address.includes(':') ? 128 : 32}`);
  return typeof p === 'string' ? undefined : spaceOf(p);
}
