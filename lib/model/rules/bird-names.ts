// A peer name becomes the bird protocol name bgp_<name>; a name that spells a BGP route attribute
// (path, community, med, next-hop, ...) makes a bird keyword, which bird -p refuses.
import { BIRD_KEYWORDS, birdPeerSymbol } from '../bird-keywords.ts';
import type { Rule } from './types.ts';

export const birdNames: Rule = (t, report) => {
  for (const site of t.sites) {
    site.bgp.peers.forEach((p, i) => {
      const symbol = birdPeerSymbol(p.name);
      if (BIRD_KEYWORDS.has(symbol)) {
        report(site.id, ['bgp', 'peers', i, 'name'], `bgp.peers[${i}].name: ${p.name} makes the bird protocol name ${symbol}, which is a bird keyword (a BGP attribute); rename the peer, such as ${p.name}-1`);
      }
    });
  }
};
