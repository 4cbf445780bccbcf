// BFD per session: bird (>= 2.0.8) takes each BGP session's timers in its own bfd block, so peers
// may run different timers. bfd.multihop is for directly connected sessions whose peer runs
// RFC 5883 multihop BFD (FRR does for a neighbor with ttl-security); a multihop session's BFD is
// multihop already.
//
// With the upstream's implementation known (bgp.peers[].implementation), the two sides must agree
// on single-hop (RFC 5881, UDP 3784) or multihop (RFC 5883, UDP 4784) BFD for a directly connected
// session, or BFD never comes up while BGP does, and failover silently waits for the hold timer.
// FRR runs multihop BFD for a neighbor with ttl-security (seen in the lab, test/lab/bfd.test.ts);
// bird, Junos and IOS-XR run single-hop BFD for a directly connected session.
import { bfdTimers } from '../facts.ts';
import type { Peer } from '../schema.ts';
import type { Rule } from './types.ts';

/** Whether the upstream runs this directly connected session's BFD as multihop; undefined when not known. */
function upstreamRunsMultihop(peer: Peer): boolean | undefined {
  switch (peer.implementation) {
    case 'frr':
      return peer.ttlSecurity;
    case 'bird':
    case 'junos':
    case 'iosxr':
      return false;
    default:
      return undefined;
  }
}

export const bfd: Rule = (t, report) => {
  for (const site of t.sites) {
    site.bgp.peers.forEach((peer, i) => {
      if (typeof peer.bfd === 'object' && peer.bfd.multihop && peer.multihop !== undefined) {
        report(site.id, ['bgp', 'peers', i, 'bfd', 'multihop'], `bgp.peers[${i}].bfd.multihop: ${peer.name} is a multihop session (multihop ${peer.multihop}), whose BFD is multihop already; remove bfd.multihop`);
        return;
      }
      const timers = bfdTimers(peer);
      const theirs = upstreamRunsMultihop(peer);
      if (!timers || peer.multihop !== undefined || theirs === undefined || theirs === timers.multihop) return;
      const why = peer.implementation === 'frr' ? (peer.ttlSecurity ? 'FRR runs multihop BFD (UDP 4784) for a neighbor with ttl-security' : 'FRR runs single-hop BFD (UDP 3784) for a directly connected neighbor without ttl-security') : `${peer.implementation} runs single-hop BFD (UDP 3784) for a directly connected session`;
      const fix = theirs ? 'set bfd: { multihop: true }' : 'remove bfd.multihop';
      const field = timers.multihop ? ['bfd', 'multihop'] : ['bfd'];
      report(site.id, ['bgp', 'peers', i, ...field], `bgp.peers[${i}].${field.join('.')}: ${why}, and this side runs ${timers.multihop ? 'multihop (4784)' : 'single-hop (3784)'}: BFD never comes up while BGP does, so failover waits for the hold timer; ${fix}`);
    });
  }
};
