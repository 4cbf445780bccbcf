// BGP: one ASN per site (no two sites share one), no reserved ASNs, eBGP only, and every peer's
// address family has a session source on every announcing host. Sites on metal announce every
// anycast address, so each family in use needs a peer of that family.
import { familyOf } from '../net.ts';
import type { Rule } from './types.ts';

const RESERVED = new Map<number, string>([
  [23456, 'AS_TRANS (RFC 6793)'],
  [65535, 'reserved (RFC 7300)'],
  [4294967295, 'reserved (RFC 7300)'],
]);

export const bgp: Rule = (t, report) => {
  const asns = new Map<number, string>();
  for (const site of t.sites) {
    const owner = asns.get(site.asn);
    if (owner) report(site.id, ['asn'], `asn: ${site.asn} is already site ${owner}'s; each site has its own ASN`);
    else asns.set(site.asn, site.id);
    const reserved = RESERVED.get(site.asn);
    if (reserved) report(site.id, ['asn'], `asn: ${site.asn} is ${reserved}; pick a private ASN (64512-65534) or your own`);
    if (site.bgp.keepaliveTimeSec * 3 > site.bgp.holdTimeSec) {
      report(site.id, ['bgp', 'keepaliveTimeSec'], `bgp.keepaliveTimeSec: ${site.bgp.keepaliveTimeSec} must be at most a third of holdTimeSec (${site.bgp.holdTimeSec})`);
    }
    const dnsHosts = site.hosts.filter((h) => h.roles.includes('dns'));
    site.bgp.peers.forEach((p, i) => {
      if (p.asn === site.asn) report(site.id, ['bgp', 'peers', i, 'asn'], `bgp.peers[${i}].asn: ${p.asn} is the site's own ASN; upstream sessions are eBGP, use the upstream's ASN`);
      if (familyOf(p.address) === 6) {
        for (const h of dnsHosts) {
          if (!h.address6) {
            report(site.id, ['bgp', 'peers', i, 'address'], `bgp.peers[${i}].address: ${p.address} is IPv6 but dns host ${h.name} has no address6; add one or use an IPv4 peer`);
          }
        }
      }
    });
    if (site.platform === 'metal') {
      const families = new Set(site.bgp.peers.map((p) => familyOf(p.address)));
      if (!families.has(4)) report(site.id, ['bgp', 'peers'], `bgp.peers: metal site ${site.id} needs an IPv4 peer to announce anycast.ipv4 ${t.cdn.anycast.ipv4}`);
      if (t.cdn.anycast.ipv6 && !families.has(6)) {
        report(site.id, ['bgp', 'peers'], `bgp.peers: metal site ${site.id} needs an IPv6 peer to announce anycast.ipv6 ${t.cdn.anycast.ipv6}, like every other site`);
      }
    }
  }
};
