// BGP: one ASN per site (no two sites share one), no reserved ASNs, eBGP only, and every peer's
// address family has a session source on every announcing host. A metal site needs a peer of each
// family its anycast prefixes (bgp.announce) hold.
import { announcedGroups, hasRole } from '../facts.ts';
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
    const dnsHosts = site.hosts.filter((h) => hasRole(h, 'dns'));
    site.bgp.peers.forEach((p, i) => {
      if (p.ttlSecurity && p.multihop !== undefined) {
        report(site.id, ['bgp', 'peers', i, 'ttlSecurity'], `bgp.peers[${i}].ttlSecurity: GTSM (RFC 5082) is for directly connected peers, and ${p.name} has multihop ${p.multihop}; remove ttlSecurity or multihop`);
      }
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
      const announced = announcedGroups(t, site).flatMap((g) => g.families);
      for (const family of [4, 6] as const) {
        const first = announced.find((f) => f.family === family);
        if (first && !families.has(family)) {
          report(site.id, ['bgp', 'peers'], `bgp.peers: metal site ${site.id} needs an IPv${family} peer to announce anycast prefix ${first.group} ${first.prefix}`);
        }
      }
    }
  }
};
