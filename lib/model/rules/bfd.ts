// BFD per session: bird (>= 2.0.8) takes each BGP session's timers in its own bfd block, so peers
// may run different timers. bfd.multihop is for directly connected sessions whose peer runs
// RFC 5883 multihop BFD (FRR does for a neighbor with ttl-security); a multihop session's BFD is
// multihop already.
import type { Rule } from './types.ts';

export const bfd: Rule = (t, report) => {
  for (const site of t.sites) {
    site.bgp.peers.forEach((peer, i) => {
      if (typeof peer.bfd === 'object' && peer.bfd.multihop && peer.multihop !== undefined) {
        report(site.id, ['bgp', 'peers', i, 'bfd', 'multihop'], `bgp.peers[${i}].bfd.multihop: ${peer.name} is a multihop session (multihop ${peer.multihop}), whose BFD is multihop already; remove bfd.multihop`);
      }
    });
  }
};
