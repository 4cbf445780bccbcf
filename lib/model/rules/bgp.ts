// BGP: eBGP only (no peer in the origin AS), keepalive at most a third of the hold time, every
// peer's address family has a session source on every announcing host, and a metal site has a
// peer of each family its anycast prefixes (bgp.announce) hold. GTSM is for directly connected
// peers. The origin AS itself is rules/origin-asn.ts.
import { announcedGroups, hasRole } from '../facts.ts';
import { familyOf } from '../net.ts';
import type { Rule } from './types.ts';

export const bgp: Rule = (t, report) => {
  const origin = t.cdn.bgp.originAsn;
  for (const site of t.sites) {
    if (site.bgp.keepaliveTimeSec * 3 > site.bgp.holdTimeSec) {
      report(site.id, ['bgp', 'keepaliveTimeSec'], `bgp.keepaliveTimeSec: ${site.bgp.keepaliveTimeSec} must be at most a third of holdTimeSec (${site.bgp.holdTimeSec})`);
    }
    const dnsHosts = site.hosts.filter((h) => hasRole(h, 'dns'));
    site.bgp.peers.forEach((p, i) => {
      if (p.ttlSecurity && p.multihop !== undefined) {
        report(site.id, ['bgp', 'peers', i, 'ttlSecurity'], `bgp.peers[${i}].ttlSecurity: GTSM (RFC 5082) is for directly connected peers, and ${p.name} has multihop ${p.multihop}; remove ttlSecurity or multihop`);
      }
      if (p.asn === origin) report(site.id, ['bgp', 'peers', i, 'asn'], `bgp.peers[${i}].asn: ${p.asn} is bgp.originAsn, the CDN's own; upstream sessions are eBGP, use the upstream's ASN`);
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
