// One origin AS for the whole CDN (bgp.originAsn): public, because an upstream strips a private AS
// and originates the prefix as itself, so ROAs naming the private one make the route
// RPKI-invalid, and IRR databases refuse private or reserved origins. A private originAsn is
// right only behind one upstream that originates for every site (bgp.upstreamOriginAsn): the
// ROAs and IRR objects then name that upstream, and every site's peers are that upstream.
import { isPrivateAsn } from '../facts.ts';
import type { Rule } from './types.ts';

const RESERVED = new Map<number, string>([
  [0, 'reserved (RFC 7607)'],
  [23456, 'AS_TRANS (RFC 6793)'],
  [65535, 'reserved (RFC 7300)'],
  [4294967295, 'reserved (RFC 7300)'],
]);

export const originAsn: Rule = (t, report) => {
  const { originAsn: origin, upstreamOriginAsn: upstream } = t.cdn.bgp;
  const reserved = RESERVED.get(origin);
  if (reserved) report(null, ['bgp', 'originAsn'], `bgp.originAsn: ${origin} is ${reserved}; use your own public ASN`);
  if (upstream === undefined) {
    if (isPrivateAsn(origin)) {
      report(
        null,
        ['bgp', 'originAsn'],
        `bgp.originAsn: ${origin} is a private ASN, which upstreams strip before they pass the route on, so the internet sees their ASN as the origin and ROAs naming ${origin} make the route RPKI-invalid (and IRR databases refuse it); use your own public ASN, or, if every site sits behind one upstream that originates for it, set bgp.upstreamOriginAsn to that upstream's ASN (the ROAs and IRR objects then name it)`,
      );
    }
    return;
  }
  if (!isPrivateAsn(origin)) {
    report(null, ['bgp', 'upstreamOriginAsn'], `bgp.upstreamOriginAsn: ${upstream} is set but bgp.originAsn ${origin} is public, so the internet sees ${origin} as the origin; remove upstreamOriginAsn`);
  }
  const why = RESERVED.get(upstream) ?? (isPrivateAsn(upstream) ? 'a private ASN' : undefined);
  if (why) report(null, ['bgp', 'upstreamOriginAsn'], `bgp.upstreamOriginAsn: ${upstream} is ${why}; it must be the public ASN of the upstream that originates the prefixes`);
  for (const site of t.sites) {
    site.bgp.peers.forEach((p, i) => {
      if (p.asn !== upstream) {
        report(
          site.id,
          ['bgp', 'peers', i, 'asn'],
          `bgp.peers[${i}].asn: ${p.asn} is not bgp.upstreamOriginAsn ${upstream}; behind an upstream that originates for the sites, every peer is that upstream (another one would pass the private AS ${origin} on, or originate with its own ASN, which the ROAs do not name)`,
        );
      }
    });
  }
};
