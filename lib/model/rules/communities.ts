// The well-known communities of RFC 1997, 7999 and 8326 mean something to every upstream, and on
// the anycast announcements (bgp.peers[].communities goes on each of them) they undo the CDN:
// BLACKHOLE drops its traffic, GRACEFUL_SHUTDOWN deprefers the site for good (anycdn sends it
// itself while a site drains), and the scope communities keep the prefixes from the internet,
// which only a deliberately internal CDN (internal: true) may want.
import type { Rule } from './types.ts';

const WELL_KNOWN = new Map<string, { name: string; does: string; internal: boolean }>([
  ['65535:666', { name: 'BLACKHOLE (RFC 7999)', does: 'asks the upstream to drop all traffic to the anycast prefixes', internal: false }],
  ['65535:0', { name: 'GRACEFUL_SHUTDOWN (RFC 8326)', does: 'makes upstreams prefer any other path, for good (anycdn sends it itself while a site drains)', internal: false }],
  ['65535:65281', { name: 'NO_EXPORT (RFC 1997)', does: "keeps the anycast prefixes inside the upstream's AS, so the internet never sees this site", internal: true }],
  ['65535:65282', { name: 'NO_ADVERTISE (RFC 1997)', does: 'stops the upstream from passing the anycast prefixes to any other router', internal: true }],
  ['65535:65283', { name: 'NO_EXPORT_SUBCONFED (RFC 1997)', does: "keeps the anycast prefixes inside the upstream's confederation member AS", internal: true }],
]);

export const communities: Rule = (t, report) => {
  for (const site of t.sites) {
    site.bgp.peers.forEach((peer, i) => {
      peer.communities.forEach((c, j) => {
        // Standard communities only; 065535:0666 is 65535:666 to bird.
        const parts = c.split(':').map(Number);
        const known = parts.length === 2 ? WELL_KNOWN.get(parts.join(':')) : undefined;
        if (!known || (known.internal && t.cdn.internal)) return;
        const field = `bgp.peers[${i}].communities[${j}]`;
        const allow = known.internal ? ', or set internal: true in cdn.yaml if the CDN is meant to stay inside the upstream\'s network' : '';
        report(site.id, ['bgp', 'peers', i, 'communities', j], `${field}: ${c} is ${known.name}, which ${known.does}; remove it${allow}`);
      });
    });
  }
};
