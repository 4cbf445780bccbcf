// An aws site is announced by Global Accelerator (stack anycdn-global), not by BGP from its hosts.
import type { Rule } from './types.ts';

export const awsPeers: Rule = (t, report) => {
  for (const site of t.sites) {
    if (site.platform === 'aws' && site.bgp.peers.length > 0) {
      report(site.id, ['bgp', 'peers'], `bgp.peers: aws site ${site.id} is announced by Global Accelerator (stack anycdn-global); remove its BGP peers`);
    }
  }
};
