// bird sets BFD timers per interface for directly connected sessions, and once for all multihop
// sessions: peers that share one of those must ask for the same timers, or all but one would
// silently run on another's.
import { bfdTimers, type BfdTimers } from '../facts.ts';
import type { Rule } from './types.ts';

const text = (b: BfdTimers) => `${b.intervalMs} ms x ${b.multiplier}`;

export const bfd: Rule = (t, report) => {
  for (const site of t.sites) {
    const first = new Map<boolean, { name: string; timers: BfdTimers }>();
    site.bgp.peers.forEach((peer, i) => {
      const timers = bfdTimers(peer);
      if (!timers) return;
      const multihop = peer.multihop !== undefined;
      const seen = first.get(multihop);
      if (!seen) return void first.set(multihop, { name: peer.name, timers });
      if (seen.timers.intervalMs === timers.intervalMs && seen.timers.multiplier === timers.multiplier) return;
      const shared = multihop ? 'all multihop sessions share one set in bird' : 'bird sets them per interface, and every directly connected peer is on the same one';
      report(site.id, ['bgp', 'peers', i, 'bfd'], `bgp.peers[${i}].bfd: ${text(timers)} differs from ${seen.name}'s ${text(seen.timers)}; ${shared}, so give them the same timers`);
    });
  }
};
