// Where each lab client's anycast query lands. The lab's network is known: each site's router
// hears the site's dns hosts over the model's sessions, and the routers are meshed over the core,
// each prepending its own ASN. So BGP's choice at every router follows from the model: the
// shortest AS path, where a site's own announcement is 1 + its prepends (bgp.prepend plus the
// smallest peers[].prepend of the family) long and every router on the way adds one. A site that
// prepends may be nearer to no client at all, its own included, as in the world.
import { announcedGroups, isDrained, publishedVip, type AnycastFamily } from '../model/facts.ts';
import { familyOf } from '../model/net.ts';
import type { Site, Topology } from '../model/schema.ts';
import type { LabPlan } from './plan.ts';

/** The AS-path length a site's own announcement of `family` has at its router, or undefined. */
export function ownPathLength(t: Topology, site: Site, family: AnycastFamily): number | undefined {
  if (isDrained(site) || !announcedGroups(t, site).some((g) => g.name === family.group)) return undefined;
  // A drained dns host announces with the graceful-shutdown community (local preference 0 at
  // every router): only the site's active dns hosts count.
  if (!site.hosts.some((h) => h.roles.includes('dns') && !isDrained(h))) return undefined;
  const peers = site.bgp.peers.filter((p) => familyOf(p.address) === family.family);
  if (peers.length === 0) return undefined;
  return 1 + site.bgp.prepend + Math.min(...peers.map((p) => p.prepend));
}

/**
 * For each router (by site id), the sites whose announcement of `family` is its best route: the
 * shortest AS path, all of them on a tie (bird then decides by router id, which this leaves open).
 * A router that hears no active announcement is absent.
 */
export function nearestSites(t: Topology, plan: LabPlan, family: AnycastFamily): Map<string, string[]> {
  const best = new Map<string, { length: number; sites: Set<string> }>();
  for (const r of plan.routers) {
    const length = ownPathLength(t, t.sites.find((s) => s.id === r.site)!, family);
    if (length !== undefined) best.set(r.site, { length, sites: new Set([r.site]) });
  }
  // Every router exports its best route to every other over the core, one ASN longer. A full
  // mesh settles in as many rounds as there are routers.
  for (let round = 0; round < plan.routers.length; round++) {
    for (const r of plan.routers) {
      for (const other of plan.routers.filter((o) => o.site !== r.site)) {
        const heard = best.get(other.site);
        if (!heard) continue;
        const mine = best.get(r.site);
        const length = heard.length + 1;
        if (!mine || length < mine.length) best.set(r.site, { length, sites: new Set(heard.sites) });
        else if (length === mine.length) heard.sites.forEach((s) => mine.sites.add(s));
      }
    }
  }
  return new Map([...best].map(([site, b]) => [site, [...b.sites].sort()]));
}

/** What the DNS answers a client near each router may get for the image host: the nearest sites' published VIPs. */
export function nearestAnswers(t: Topology, plan: LabPlan, family: AnycastFamily): Map<string, string[]> {
  const vip = (id: string) => publishedVip(t.sites.find((s) => s.id === id)!);
  return new Map([...nearestSites(t, plan, family)].map(([router, sites]) => [router, sites.map(vip)]));
}
