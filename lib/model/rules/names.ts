// Host names are unique across all sites; peer names are unique within a site; no site takes the
// name of render's routing directory.
import type { Rule } from './types.ts';

export const uniqueNames: Rule = (t, report) => {
  const hosts = new Map<string, string>();
  for (const site of t.sites) {
    // anycdn render writes the ROAs and IRR objects to out/routing/, next to one directory per site.
    if (site.id === 'routing') report(site.id, ['id'], `id: routing is where render writes the ROAs and IRR objects (out/routing/); name the site otherwise, such as routing-1`);
    site.hosts.forEach((h, i) => {
      const owner = hosts.get(h.name);
      if (owner) report(site.id, ['hosts', i, 'name'], `hosts[${i}].name: ${h.name} is already a host in site ${owner}; host names must be unique across sites`);
      else hosts.set(h.name, site.id);
    });
    const peers = new Set<string>();
    site.bgp.peers.forEach((p, i) => {
      if (peers.has(p.name)) report(site.id, ['bgp', 'peers', i, 'name'], `bgp.peers[${i}].name: ${p.name} is used twice in this site; peer names must be unique per site`);
      peers.add(p.name);
    });
  }
};
