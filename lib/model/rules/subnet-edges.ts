// No address the model gives a host or a VIP is its subnet's network or broadcast address (IPv4
// subnets up to /30; a /31 and a /32 have neither, RFC 3021), or an IPv6 subnet's subnet-router
// anycast address (the all-zero host part, RFC 4291), which every router on the segment answers.
// aws sites are left to awsNetwork, which refuses these with the other addresses AWS keeps.
import ipaddr from 'ipaddr.js';
import { contains, familyOf, ipv4Offset, parsePrefix, type Prefix } from '../net.ts';
import { pathString } from '../errors.ts';
import type { Rule } from './types.ts';

export const subnetEdges: Rule = (t, report) => {
  for (const site of t.sites.filter((s) => s.platform !== 'aws')) {
    const subnets = Object.entries(site.subnets).flatMap(([name, text]) => {
      const p = parsePrefix(text);
      return typeof p === 'string' ? [] : [{ name, prefix: p }];
    });
    const check = (path: (string | number)[], address: string | undefined, who = '') => {
      if (address === undefined) return;
      const subnet = subnets.find((s) => contains(s.prefix, address));
      if (!subnet) return; // addressesInSubnets reports it
      const edge = edgeOf(subnet.prefix, address);
      if (edge) report(site.id, path, `${pathString(path)}: ${address}${who} is ${edge.what} of subnets.${subnet.name} ${subnet.prefix.text}${edge.note}; ${fix(subnet.prefix)}`);
    };
    check(['vip', 'address'], site.vip.address);
    check(['vip', 'address6'], site.vip.address6);
    site.hosts.forEach((h, i) => {
      check(['hosts', i, 'address'], h.address, ` (${h.name})`);
      check(['hosts', i, 'address6'], h.address6, ` (${h.name})`);
    });
  }
};

function edgeOf(p: Prefix, address: string): { what: string; note: string } | undefined {
  if (familyOf(address) === 6) {
    const routers = p.length < 127 && ipaddr.parse(address).toString() === p.address.toString();
    return routers ? { what: 'the subnet-router anycast address', note: ', which every router on the segment answers (RFC 4291)' } : undefined;
  }
  if (p.length > 30) return undefined;
  const { offset, size } = ipv4Offset(p, address);
  if (offset === 0) return { what: 'the network address', note: '' };
  if (offset === size - 1) return { what: 'the broadcast address', note: '' };
  return undefined;
}

/** The usable range of `p`, as the fix. */
function fix(p: Prefix): string {
  if (p.family === 6) return 'pick another address inside it';
  const bytes = p.address.toByteArray();
  const first = ipaddr.fromByteArray([...bytes.slice(0, 3), bytes[3]! + 1]).toString();
  const { size } = ipv4Offset(p, p.address.toString());
  const lastValue = bytes.reduce((n, b) => n * 256 + b, 0) + size - 2;
  const last = [24, 16, 8, 0].map((s) => Math.floor(lastValue / 2 ** s) % 256).join('.');
  return `pick an address from ${first} to ${last}`;
}
